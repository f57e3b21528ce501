"""scipy.linalg's triangular solves on Tensors: solve_triangular and cho_solve."""
