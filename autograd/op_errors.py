"""The error for an op whose forward failed: it names the operation and the shapes involved
(numpy's own message names neither). Raised by tensor.apply.
"""

from . import ops


def describe(op, inputs, attrs, err):
    """An error that names the operation and the shapes involved."""
    shapes = " and ".join(str(t.shape) for t in inputs)
    if op is ops.matmul or op is ops.linear:
        a, b = inputs[0].shape, inputs[1].shape
        if a and b:
            inner_b = b[0] if len(b) == 1 else b[-2]
            if a[-1] != inner_b:
                return ValueError(
                    f"{op.name}: shapes {a} and {b} do not align ({a[-1]} != {inner_b})"
                )
        elif not a or not b:
            return ValueError(f"{op.name}: shapes {a} and {b}: 0-d operands are not allowed")
        if op is ops.linear and a and b:
            return ValueError(
                f"linear: bias of shape {inputs[2].shape} does not broadcast to the output "
                f"of {a} @ {b}"
            )
    if op is ops.setitem:  # not two operands broadcast together: value into x[index]
        return type(err)(f"setitem (t[index] = value): {err} (t of shape {inputs[0].shape}, "
                         f"value of shape {inputs[1].shape}, index {attrs['index']!r})")
    if len(inputs) == 2 and "broadcast" in str(err):
        return ValueError(f"{op.name}: shapes {shapes} cannot be broadcast together")
    detail = ", ".join(f"{k}={v!r}" for k, v in attrs.items() if v is not None)
    where = f"{op.name}({detail})" if detail else op.name
    return type(err)(f"{where}: {err} (input shape {shapes})")
