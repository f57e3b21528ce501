"""Which nodes belong to which module of a model: the boxes the explorer draws around a Linear's
weight, bias and its op, nested as the modules are.

autograd knows nothing of nn, so a model is anything with `named_modules()` (or only
`named_parameters()`, which gives no boxes). A node goes into the innermost module whose
`forward` made it, when `record()` saw that; otherwise into the module owning its parameters:
a parameter itself, and an op with a parameter among its inputs (a Linear's `linear` node uses
its weight). Ops of parameter-free modules (Tanh) need `record()` to be boxed.
"""


def module_groups(model, nodes, order):
    """Each module of `model` that holds nodes, as dicts: id ("g3"), label, parent (an index
    into the list, or None) and members (indices of the nodes directly inside it).

    Sets node["group"] to the index of a node's innermost box. The model itself is not a box:
    it would hold everything.
    """
    if model is None or not hasattr(model, "named_modules"):
        return []
    modules = [(name, m) for name, m in model.named_modules() if name]
    box_of_module = {id(m): k for k, (_, m) in enumerate(modules)}
    owner = {}  # id(parameter) -> the innermost module holding it (the longest name wins)
    for k, (name, m) in enumerate(modules):
        for _, p in m.named_parameters():
            if id(p) not in owner or name.count(".") > modules[owner[id(p)]][0].count("."):
                owner[id(p)] = k

    members = [[] for _ in modules]
    for i, (node, t) in enumerate(zip(nodes, order)):
        k = next((box_of_module[m] for m in node.get("_modules", ()) if m in box_of_module),
                 None)
        if k is None:
            k = owner.get(id(t))
        if k is None and t.op is not None:
            k = next((owner[id(p)] for p in t.parents if id(p) in owner), None)
        if k is not None:
            members[k].append(i)

    # Keep the modules that hold nodes, and every module above them (the nesting).
    names = [name for name, _ in modules]
    parent = [_enclosing(names, name) for name in names]
    used = [bool(m) for m in members]
    for k in reversed(range(len(modules))):  # children come after their parents
        if used[k] and parent[k] is not None:
            used[parent[k]] = True
    number = {}
    groups = []
    for k, (name, m) in enumerate(modules):
        if not used[k]:
            continue
        number[k] = len(groups)
        extra = m.extra_repr() if hasattr(m, "extra_repr") else ""
        groups.append(dict(id=f"g{len(groups)}", label=f"{name}: {type(m).__name__}({extra})",
                           parent=number.get(parent[k]), members=members[k]))
        for i in members[k]:
            nodes[i]["group"] = number[k]
    return groups


def _enclosing(names, name):
    """Index of the module directly above `name` ("layers" above "layers.0"), or None."""
    while "." in name:
        name = name.rsplit(".", 1)[0]
        if name in names:
            return names.index(name)
    return None
