"""Realistic answers to exercises/05_checkpointing.ipynb (see tests/answers/__init__.py)."""

from . import Answer

EXERCISE = "05_checkpointing"

# The correct cell of ckpt_segment_backward (not a row of its own); the rows one edit away from it derive from it.
_SEGMENT_BACKWARD_OK = """
def segment_backward(net, a_start, start, end, da_end):
    inputs, zs = {}, {}
    a = a_start
    for l in range(start + 1, end + 1):
        inputs[l] = a
        zs[l], a = net.layer_forward(l, a)
    grads, da = {}, da_end
    for l in range(end, start, -1):
        da, grads[f"W{l}"], grads[f"b{l}"], _ = net.layer_backward(l, da, inputs[l], zs[l])
    return da, grads
"""

# The correct cell of ckpt_checkpointed_grads (not a row of its own); the rows one edit away from it derive from it.
_CHECKPOINTED_GRADS_OK = """
def checkpointed_grads(net, X, y, segment_backward):
    bounds = sqrt_segments(net.n_layers)
    checkpoints, a = {}, X
    for start, end in zip(bounds[:-1], bounds[1:]):
        checkpoints[start] = a
        for l in range(start + 1, end + 1):
            _, a = net.layer_forward(l, a)
    loss, da = net.output_loss(a, y)
    grads = {}
    for start, end in reversed(list(zip(bounds[:-1], bounds[1:]))):
        da, seg_grads = segment_backward(net, checkpoints[start], start, end, da)
        grads.update(seg_grads)
    return loss, grads
"""

ANSWERS = [
    # ------------------------------------------------------------------ 1. store_all_memory
    Answer("ckpt_store_all_bytes", "forgot the input X", """
def store_all_memory(sizes, batch, itemsize=8):
    return batch * itemsize * 2 * sum(sizes[1:])
""", "you forgot the input X"),
    Answer("ckpt_store_all_bytes", "one array per layer (only the activations a_l)", """
def store_all_memory(sizes, batch, itemsize=8):
    return batch * itemsize * sum(sizes)        # X and every a_l
""", "TWO arrays, z_l"),
    Answer("ckpt_store_all_bytes", "derived from what backward reads: a_{l-1} and z_l, so no a_L", """
def store_all_memory(sizes, batch, itemsize=8):
    L = len(sizes) - 1
    inputs = sum(sizes[l - 1] for l in range(1, L + 1))   # a_0 .. a_{L-1}
    pre = sum(sizes[l] for l in range(1, L + 1))          # z_1 .. z_L
    return batch * itemsize * (inputs + pre)
""", "you left out a_L"),
    Answer("ckpt_store_all_bytes", "a count of numbers, not bytes", """
def store_all_memory(sizes, batch, itemsize=8):
    return batch * (sizes[0] + 2 * sum(sizes[1:]))
""", "multiply by itemsize"),
    Answer("ckpt_store_all_bytes", "forgot the batch", """
def store_all_memory(sizes, batch, itemsize=8):
    return itemsize * (sizes[0] + 2 * sum(sizes[1:]))
""", "one row per example"),
    Answer("ckpt_store_all_bytes", "the cost model's 2n + 1 arrays of the input's width", """
def store_all_memory(sizes, batch, itemsize=8):
    n = len(sizes) - 1
    return (2 * n + 1) * batch * sizes[0] * itemsize
""", "equal widths only"),
    Answer("ckpt_store_all_bytes", "added the parameters", """
def store_all_memory(sizes, batch, itemsize=8):
    activations = batch * (sizes[0] + 2 * sum(sizes[1:]))
    params = sum(n_in * n_out + n_out for n_in, n_out in zip(sizes[:-1], sizes[1:]))
    return (activations + params) * itemsize
""", "you added the parameters"),
    Answer("ckpt_store_all_bytes", "z and a for the input too", """
def store_all_memory(sizes, batch, itemsize=8):
    return 2 * batch * itemsize * sum(sizes)
""", "the input has no pre-activation"),
    Answer("ckpt_store_all_bytes", "right value as a float", """
def store_all_memory(sizes, batch, itemsize=8):
    mem = 0.0
    for i, n_l in enumerate(sizes):
        mem += (1 if i == 0 else 2) * batch * n_l * itemsize
    return mem
""", "return an int"),
    Answer("ckpt_store_all_bytes", "in KiB with / 1024 then back", """
def store_all_memory(sizes, batch, itemsize=8):
    kib = batch * itemsize * (sizes[0] + 2 * sum(sizes[1:])) / 1024
    return kib * 1024
""", "return an int"),
    Answer("ckpt_store_all_bytes", "calls the library", """
from backprop_lib.checkpoint import store_all_bytes

def store_all_memory(sizes, batch, itemsize=8):
    return store_all_bytes(sizes, batch, itemsize)
""", "reference implementation"),
    Answer("ckpt_store_all_bytes", "the library under the task's name", """
from backprop_lib.checkpoint import store_all_bytes as store_all_memory
""", "reference implementation"),
    Answer("ckpt_store_all_bytes", "measures a network's forward_trace", """
def store_all_memory(sizes, batch, itemsize=8):
    net = MLP(sizes, seed=0)
    trace = net.forward_trace(np.zeros((batch, sizes[0])))
    numbers = sum(a.size for a in trace.activations) + sum(z.size for z in trace.zs)
    return numbers * itemsize
""", "reference implementation"),
    Answer("ckpt_store_all_bytes", "a loop over the layers", """
def store_all_memory(sizes, batch, itemsize=8):
    total = batch * sizes[0] * itemsize          # X
    for width in sizes[1:]:
        total += 2 * batch * width * itemsize    # z_l and a_l
    return total
""", None),
    Answer("ckpt_store_all_bytes", "numpy sum (a numpy integer)", """
def store_all_memory(sizes, batch, itemsize=8):
    widths = np.array(sizes)
    return batch * itemsize * (widths[0] + 2 * widths[1:].sum())
""", None),
    Answer("ckpt_store_all_bytes", "a table of the kept arrays' shapes", """
def store_all_memory(sizes, batch, itemsize=8):
    shapes = [(batch, sizes[0])] + [(batch, n) for n in sizes[1:] for _ in ("z", "a")]
    return sum(rows * cols for rows, cols in shapes) * itemsize
""", None),

    Answer("ckpt_store_all_bytes", 'counts the weight matrices', """
def store_all_memory(sizes, batch, itemsize=8):
    return itemsize * sum(sizes[i] * sizes[i + 1] for i in range(len(sizes) - 1))
""", 'you counted the weight matrices'),
    Answer("ckpt_store_all_bytes", 'loop stops before the output layer', """
def store_all_memory(sizes, batch, itemsize=8):
    total = sizes[0]
    for n in sizes[1:-1]:
        total += 2 * n
    return batch * itemsize * total
""", 'you left out the output layer'),
    Answer("ckpt_store_all_bytes", '8 bytes per number whatever itemsize says', """
def store_all_memory(sizes, batch, itemsize=8):
    return batch * 8 * (sizes[0] + 2 * sum(sizes[1:]))
""", 'multiply by the itemsize argument'),
    # ------------------------------------------------------------------ 2. segment_boundaries
    Answer("ckpt_segment_bounds", "k = int(sqrt(n)) rounds down", """
def segment_boundaries(n):
    k = int(math.sqrt(n))
    return list(range(0, n, k)) + [n]
""", "floor(sqrt(n))"),
    Answer("ckpt_segment_bounds", "ceil(sqrt(n)) segments instead of segments of ceil(sqrt(n)) layers", """
def segment_boundaries(n):
    m = math.ceil(math.sqrt(n))      # number of segments
    k = math.ceil(n / m)             # layers per segment
    return list(range(0, n, k)) + [n]
""", "NUMBER of segments"),
    Answer("ckpt_segment_bounds", "ceil(sqrt(n)) balanced segments with linspace", """
def segment_boundaries(n):
    m = math.ceil(math.sqrt(n))
    return [int(b) for b in np.linspace(0, n, m + 1)]
""", "NUMBER of segments"),
    Answer("ckpt_segment_bounds", "round(sqrt(n))", """
def segment_boundaries(n):
    k = round(math.sqrt(n))
    return list(range(0, n, k)) + [n]
""", "nearest integer"),
    Answer("ckpt_segment_bounds", "misses the end", """
def segment_boundaries(n):
    return list(range(0, n, math.ceil(math.sqrt(n))))
""", "misses the end"),
    Answer("ckpt_segment_bounds", "range to n + 1", """
def segment_boundaries(n):
    return list(range(0, n + 1, math.ceil(math.sqrt(n))))
""", "reaches n only when k divides n"),
    Answer("ckpt_segment_bounds", "appends n even when range already reached it", """
def segment_boundaries(n):
    k = math.ceil(math.sqrt(n))
    return list(range(0, n + 1, k)) + [n]
""", "twice"),
    Answer("ckpt_segment_bounds", "float step from math.sqrt", """
def segment_boundaries(n):
    k = math.sqrt(n)
    return list(range(0, n, k)) + [n]
""", "math.sqrt returns a float"),
    Answer("ckpt_segment_bounds", "numpy float boundaries", """
def segment_boundaries(n):
    return np.append(np.arange(0, n, np.ceil(np.sqrt(n))), n)
""", "non-integers"),
    Answer("ckpt_segment_bounds", "segments counted from the top (short first)", """
def segment_boundaries(n):
    k = math.ceil(math.sqrt(n))
    return sorted(list(range(n, 0, -k)) + [0])
""", "short segment is the first"),
    Answer("ckpt_segment_bounds", "calls the library", """
def segment_boundaries(n):
    return sqrt_segments(n)
""", "reference implementation"),
    Answer("ckpt_segment_bounds", "a while loop", """
def segment_boundaries(n):
    k = math.ceil(math.sqrt(n))
    bounds = [0]
    while bounds[-1] < n:
        bounds.append(min(bounds[-1] + k, n))
    return bounds
""", None),
    Answer("ckpt_segment_bounds", "numpy integer array", """
def segment_boundaries(n):
    k = math.isqrt(n - 1) + 1
    return np.append(np.arange(0, n, k), n)
""", None),
    Answer("ckpt_segment_bounds", "integer square root by counting up", """
def segment_boundaries(n):
    k = 1
    while k * k < n:
        k += 1
    starts = [i * k for i in range(-(-n // k))]
    return starts + [n]
""", None),

    Answer("ckpt_segment_bounds", 'k = int(sqrt(n)) + 1', """
def segment_boundaries(n):
    k = int(math.sqrt(n)) + 1
    return list(range(0, n, k)) + [n]
""", 'one too large'),
    # ------------------------------------------------------------------ 3. segment_backward
    Answer("ckpt_segment_backward", "passes the layer's output instead of its input", """
def segment_backward(net, a_start, start, end, da_end):
    outputs, zs = {}, {}
    a = a_start
    for l in range(start + 1, end + 1):
        zs[l], a = net.layer_forward(l, a)
        outputs[l] = a
    grads, da = {}, da_end
    for l in range(end, start, -1):
        da, grads[f"W{l}"], grads[f"b{l}"], _ = net.layer_backward(l, da, outputs[l], zs[l])
    return da, grads
""", "INPUT a_{l-1}"),
    Answer("ckpt_segment_backward", "every layer gets da_end", """
def segment_backward(net, a_start, start, end, da_end):
    inputs, zs = {}, {}
    a = a_start
    for l in range(start + 1, end + 1):
        inputs[l] = a
        zs[l], a = net.layer_forward(l, a)
    grads = {}
    for l in range(end, start, -1):
        da, grads[f"W{l}"], grads[f"b{l}"], _ = net.layer_backward(l, da_end, inputs[l], zs[l])
    return da, grads
""", "every layer got da_end"),
    Answer("ckpt_segment_backward", "returns delta instead of dL/da_start",
           _SEGMENT_BACKWARD_OK.replace("], _ = net.layer_backward", "], delta = net.layer_backward")
                               .replace("return da, grads", "return delta, grads"),
           "delta (dL/dz)"),
    Answer("ckpt_segment_backward", "layers start..end-1 (off by one)", """
def segment_backward(net, a_start, start, end, da_end):
    inputs, zs = {}, {}
    a = a_start
    for l in range(max(start, 1), end):
        inputs[l] = a
        zs[l], a = net.layer_forward(l, a)
    grads, da = {}, da_end
    for l in range(end - 1, max(start, 1) - 1, -1):
        da, grads[f"W{l}"], grads[f"b{l}"], _ = net.layer_backward(l, da, inputs[l], zs[l])
    return da, grads
""", "off by one"),
    Answer("ckpt_segment_backward", "returns (grads, da)",
           _SEGMENT_BACKWARD_OK.replace("return da, grads", "return grads, da"),
           "the order is (da_start, grads)"),
    Answer("ckpt_segment_backward", "backward loop runs upwards",
           _SEGMENT_BACKWARD_OK.replace(
               "for l in range(end, start, -1):",
               "for l in range(start + 1, end + 1):"),
           "upwards"),
    Answer("ckpt_segment_backward", "lists indexed one off: z of the layer below", """
def segment_backward(net, a_start, start, end, da_end):
    inputs, zs = [], []
    a = a_start
    for l in range(start + 1, end + 1):
        inputs.append(a)
        z, a = net.layer_forward(l, a)
        zs.append(z)
    grads, da = {}, da_end
    for l in range(end, start, -1):
        i = l - start - 1
        da, grads[f"W{l}"], grads[f"b{l}"], _ = net.layer_backward(l, da, inputs[i], zs[i - 1])
    return da, grads
""", "z_{l-1}"),
    Answer("ckpt_segment_backward", "recomputes with net.forward_trace", """
def segment_backward(net, a_start, start, end, da_end):
    trace = net.forward_trace(a_start)
    grads, da = {}, da_end
    for l in range(end, start, -1):
        da, grads[f"W{l}"], grads[f"b{l}"], _ = net.layer_backward(
            l, da, trace.activations[l - 1], trace.zs[l - 1])
    return da, grads
""", "would start at layer 1"),
    Answer("ckpt_segment_backward", "need_input_grad=False",
           _SEGMENT_BACKWARD_OK.replace("zs[l])", "zs[l], need_input_grad=False)"),
           "need_input_grad=True"),
    Answer("ckpt_segment_backward", "re-runs the segment from a_start for every layer", """
def segment_backward(net, a_start, start, end, da_end):
    grads, da = {}, da_end
    for l in range(end, start, -1):
        a = a_start
        for j in range(start + 1, l):
            _, a = net.layer_forward(j, a)
        z, _ = net.layer_forward(l, a)
        da, grads[f"W{l}"], grads[f"b{l}"], _ = net.layer_backward(l, da, a, z)
    return da, grads
""", "recompute each layer once"),
    Answer("ckpt_segment_backward", "calls the library's step", """
from backprop_lib.checkpoint import segment_backward as library_step

def segment_backward(net, a_start, start, end, da_end):
    return library_step(net, a_start, start, end, da_end)
""", "reference implementation"),
    Answer("ckpt_segment_backward", "lists of caches, default need_input_grad", """
def segment_backward(net, a_start, start, end, da_end):
    caches = []
    a = a_start
    for l in range(start + 1, end + 1):
        z, a_next = net.layer_forward(l, a)
        caches.append((l, a, z))
        a = a_next
    grads, da = {}, da_end
    for l, a_prev, z in reversed(caches):
        da, dW, db, _ = net.layer_backward(l, da, a_prev, z)
        grads["W" + str(l)] = dW
        grads["b" + str(l)] = db
    return da, grads
""", None),
    Answer("ckpt_segment_backward", "activations list with a_start first", """
def segment_backward(net, a_start, start, end, da_end):
    acts, zs = [a_start], {}
    for l in range(start + 1, end + 1):
        zs[l], a = net.layer_forward(l, acts[-1])
        acts.append(a)
    grads, da = {}, da_end
    for l in range(end, start, -1):
        da, grads[f"W{l}"], grads[f"b{l}"], _ = net.layer_backward(l, da, acts[l - 1 - start], zs[l])
    return da, grads
""", None),

    Answer("ckpt_segment_backward", 'z_l passed as a_prev', """
def segment_backward(net, a_start, start, end, da_end):
    inputs, zs, a = {}, {}, a_start
    for l in range(start + 1, end + 1):
        inputs[l] = a
        zs[l], a = net.layer_forward(l, a)
    grads, da = {}, da_end
    for l in range(end, start, -1):
        da, grads[f"W{l}"], grads[f"b{l}"], _ = net.layer_backward(l, da, zs[l], zs[l], need_input_grad=True)
    return da, grads
""", 'not its pre-activation'),
    Answer("ckpt_segment_backward", 'the recompute also runs layer start',
           """
def segment_backward(net, a_start, start, end, da_end):
    inputs, zs, a = {}, {}, a_start
    for l in range(max(start, 1), end + 1):
        inputs[l] = a
        zs[l], a = net.layer_forward(l, a)
    grads, da = {}, da_end
    for l in range(end, start, -1):
        da, grads[f"W{l}"], grads[f"b{l}"], _ = net.layer_backward(l, da, inputs[l], zs[l])
    return da, grads
""",
           'range(start + 1, end + 1), not range(start, end + 1)'),
    Answer("ckpt_segment_backward", 'ok: returns a list [da_start, grads]', """
def segment_backward(net, a_start, start, end, da_end):
    inputs, zs, a = {}, {}, a_start
    for l in range(start + 1, end + 1):
        inputs[l] = a
        zs[l], a = net.layer_forward(l, a)
    grads, da = {}, da_end
    for l in range(end, start, -1):
        da, grads[f"W{l}"], grads[f"b{l}"], _ = net.layer_backward(l, da, inputs[l], zs[l])
    return [da, grads]
""", None),
    # ------------------------------------------------------------------ 4. checkpointed_grads
    Answer("ckpt_checkpointed_grads", "forgot the last segment",
           _CHECKPOINTED_GRADS_OK.replace(
               "    for start, end in reversed(list(zip(bounds[:-1], bounds[1:]))):\n",
               "    pairs = list(zip(bounds[:-1], bounds[1:]))\n    for start, end in reversed(pairs[:-1]):\n"),
           "forget the last segment"),
    Answer("ckpt_checkpointed_grads", "store-all: every cache kept, plain backward", """
def checkpointed_grads(net, X, y, segment_backward):
    caches, a = [], X
    for l in range(1, net.n_layers + 1):
        z, a_next = net.layer_forward(l, a)
        caches.append((a, z))
        a = a_next
    loss, da = net.output_loss(a, y)
    grads = {}
    for l in range(net.n_layers, 0, -1):
        a_prev, z = caches[l - 1]
        da, grads[f"W{l}"], grads[f"b{l}"], _ = net.layer_backward(l, da, a_prev, z)
    return loss, grads
""", "that is store-all"),
    Answer("ckpt_checkpointed_grads", "keeps every activation, then recomputes the segments", """
def checkpointed_grads(net, X, y, segment_backward):
    bounds = sqrt_segments(net.n_layers)
    acts = [X]
    for l in range(1, net.n_layers + 1):
        _, a = net.layer_forward(l, acts[-1])
        acts.append(a)
    loss, da = net.output_loss(acts[-1], y)
    grads = {}
    for start, end in reversed(list(zip(bounds[:-1], bounds[1:]))):
        da, g = segment_backward(net, acts[start], start, end, da)
        grads.update(g)
    return loss, grads
""", "held at once"),
    Answer("ckpt_checkpointed_grads", "forward pass with forward_trace", """
def checkpointed_grads(net, X, y, segment_backward):
    bounds = sqrt_segments(net.n_layers)
    trace = net.forward_trace(X)
    loss, da = net.output_loss(trace.output, y)
    grads = {}
    for start, end in reversed(list(zip(bounds[:-1], bounds[1:]))):
        da, g = segment_backward(net, trace.activations[start], start, end, da)
        grads.update(g)
    return loss, grads
""", "held at once"),
    Answer("ckpt_checkpointed_grads", "every segment gets the loss gradient",
           _CHECKPOINTED_GRADS_OK.replace(
               "da, seg_grads = segment_backward(net, checkpoints[start], start, end, da)",
               "_, seg_grads = segment_backward(net, checkpoints[start], start, end, da)"),
           "every segment got the loss gradient"),
    Answer("ckpt_checkpointed_grads", "grads = seg_grads", """
def checkpointed_grads(net, X, y, segment_backward):
    bounds = sqrt_segments(net.n_layers)
    checkpoints, a = {}, X
    for start, end in zip(bounds[:-1], bounds[1:]):
        checkpoints[start] = a
        for l in range(start + 1, end + 1):
            _, a = net.layer_forward(l, a)
    loss, da = net.output_loss(a, y)
    for start, end in reversed(list(zip(bounds[:-1], bounds[1:]))):
        da, grads = segment_backward(net, checkpoints[start], start, end, da)
    return loss, grads
""", "grads.update(seg_grads)"),
    Answer("ckpt_checkpointed_grads", "segments in forward order",
           _CHECKPOINTED_GRADS_OK.replace(
               "for start, end in reversed(list(zip(bounds[:-1], bounds[1:]))):",
               "for start, end in zip(bounds[:-1], bounds[1:]):"),
           "start with the LAST segment"),
    Answer("ckpt_checkpointed_grads", "the loss from a second forward pass",
           _CHECKPOINTED_GRADS_OK.replace(
               "loss, da = net.output_loss(a, y)",
               "loss, da = net.output_loss(net.forward(X), y)"),
           "more than 2n"),
    Answer("ckpt_checkpointed_grads", "returns (grads, loss)",
           _CHECKPOINTED_GRADS_OK.replace("return loss, grads", "return grads, loss"),
           "the order is (loss, grads)"),
    Answer("ckpt_checkpointed_grads", "calls grads_with_checkpoints", """
from backprop_lib.checkpoint import grads_with_checkpoints

def checkpointed_grads(net, X, y, segment_backward):
    loss, grads, _ = grads_with_checkpoints(net, X, y, "sqrt")
    return loss, grads
""", "reference implementation"),
    Answer("ckpt_checkpointed_grads", "net.loss_and_grads plus recomputed forwards to fool the count", """
def checkpointed_grads(net, X, y, segment_backward):
    loss, grads = net.loss_and_grads(X, y)
    a = X
    for l in range(1, net.n_layers + 1):
        _, a = net.layer_forward(l, a)
    return loss, grads
""", "reference implementation"),
    Answer("ckpt_checkpointed_grads", "keeps the last segment's caches (PyTorch's checkpoint_sequential)", """
def checkpointed_grads(net, X, y, segment_backward):
    bounds = sqrt_segments(net.n_layers)
    top = bounds[-2]
    checkpoints, caches, a = {}, {}, X
    for start, end in zip(bounds[:-1], bounds[1:]):
        checkpoints[start] = a
        for l in range(start + 1, end + 1):
            z, a_next = net.layer_forward(l, a)
            if start == top:
                caches[l] = (a, z)
            a = a_next
    loss, da = net.output_loss(a, y)
    grads = {}
    for l in range(net.n_layers, top, -1):
        a_prev, z = caches.pop(l)
        da, grads[f"W{l}"], grads[f"b{l}"], _ = net.layer_backward(l, da, a_prev, z)
    for start, end in reversed(list(zip(bounds[:-2], bounds[1:-1]))):
        da, seg_grads = segment_backward(net, checkpoints[start], start, end, da)
        grads.update(seg_grads)
    return loss, grads
""", None),
    Answer("ckpt_checkpointed_grads", "checkpoint list and the learner's own boundaries", """
def checkpointed_grads(net, X, y, segment_backward):
    bounds = segment_boundaries(net.n_layers)
    kept = []
    a = X
    for i in range(len(bounds) - 1):
        kept.append(a)
        for l in range(bounds[i] + 1, bounds[i + 1] + 1):
            a = net.layer_forward(l, a)[1]
    loss, da = net.output_loss(a, y)
    grads = {}
    for i in range(len(bounds) - 2, -1, -1):
        da, g = segment_backward(net, kept.pop(), bounds[i], bounds[i + 1], da)
        grads.update(g)
    return loss, {k: grads[k] for k in net.params}
""", None),

    Answer("ckpt_checkpointed_grads", 'hands every segment the last activation', """
def checkpointed_grads(net, X, y, segment_backward):
    bounds = sqrt_segments(net.n_layers)
    first, a = X, X
    for l in range(1, net.n_layers + 1):
        _, a = net.layer_forward(l, a)
    loss, da = net.output_loss(a, y)
    grads = {}
    for s, e in reversed(list(zip(bounds[:-1], bounds[1:]))):
        da, g = segment_backward(net, first if s == 0 else a, s, e, da)
        grads.update(g)
    return loss, grads
""", 'that is not a_'),
    Answer("ckpt_checkpointed_grads", 'floor(sqrt(n)) boundaries of its own', """
def checkpointed_grads(net, X, y, segment_backward):
    n = net.n_layers
    k = max(1, int(math.sqrt(n)))
    bounds = list(range(0, n, k)) + [n]
    ckpt, a = {}, X
    for s, e in zip(bounds[:-1], bounds[1:]):
        ckpt[s] = a
        for l in range(s + 1, e + 1):
            _, a = net.layer_forward(l, a)
    loss, da = net.output_loss(a, y)
    grads = {}
    for s, e in reversed(list(zip(bounds[:-1], bounds[1:]))):
        da, g = segment_backward(net, ckpt[s], s, e, da)
        grads.update(g)
    return loss, grads
""", 'not a segment of sqrt_segments'),
    Answer("ckpt_checkpointed_grads", 'ok: a list of checkpoints walked by index', """
def checkpointed_grads(net, X, y, segment_backward):
    bounds = sqrt_segments(net.n_layers)
    ckpt, a = [], X
    for s, e in zip(bounds[:-1], bounds[1:]):
        ckpt.append(a)
        for l in range(s + 1, e + 1):
            _, a = net.layer_forward(l, a)
    loss, da = net.output_loss(a, y)
    grads = {}
    for i in range(len(ckpt) - 1, -1, -1):
        da, g = segment_backward(net, ckpt[i], bounds[i], bounds[i + 1], da)
        grads.update(g)
    return loss, grads
""", None),
    # ------------------------------------------------------------------ 5. binomial_cost
    Answer("ckpt_binomial_cost", "plain recursion, not memoised", """
def binomial_cost(n, slots):
    if n == 1:
        return 0
    if slots == 1:
        return n * (n - 1) // 2
    return min(m + binomial_cost(n - m, slots - 1) + binomial_cost(m, slots) for m in range(1, n))
""", "Memoise it"),
    Answer("ckpt_binomial_cost", "counts the recording re-runs (base cases 1 and n(n+1)/2)", """
from functools import lru_cache

@lru_cache(maxsize=None)
def binomial_cost(n, slots):
    if n == 1:
        return 1
    if slots == 1:
        return n * (n + 1) // 2
    return min(m + binomial_cost(n - m, slots - 1) + binomial_cost(m, slots) for m in range(1, n))
""", "recording re-runs"),
    Answer("ckpt_binomial_cost", "the upper part keeps all s slots", """
from functools import lru_cache

@lru_cache(maxsize=None)
def binomial_cost(n, slots):
    if n == 1:
        return 0
    if slots == 1:
        return n * (n - 1) // 2
    return min(m + binomial_cost(n - m, slots) + binomial_cost(m, slots) for m in range(1, n))
""", "they have s - 1 slots"),
    Answer("ckpt_binomial_cost", "the lower part with s - 1 slots", """
from functools import lru_cache

@lru_cache(maxsize=None)
def binomial_cost(n, slots):
    if n == 1:
        return 0
    if slots == 1:
        return n * (n - 1) // 2
    return min(m + binomial_cost(n - m, slots - 1) + binomial_cost(m, slots - 1) for m in range(1, n))
""", "all s slots back"),
    Answer("ckpt_binomial_cost", "forgot the m advances", """
from functools import lru_cache

@lru_cache(maxsize=None)
def binomial_cost(n, slots):
    if n == 1:
        return 0
    if slots == 1:
        return n * (n - 1) // 2
    return min(binomial_cost(n - m, slots - 1) + binomial_cost(m, slots) for m in range(1, n))
""", "add m"),
    Answer("ckpt_binomial_cost", "one slot: n(n - 1) without halving", """
def binomial_cost(n, slots):
    F = [[0] * (slots + 1) for _ in range(n + 1)]
    for k in range(2, n + 1):
        F[k][1] = k * (k - 1)
        for j in range(2, slots + 1):
            F[k][j] = min(m + F[k - m][j - 1] + F[m][j] for m in range(1, k))
    return F[n][slots]
""", "forgot to halve"),
    Answer("ckpt_binomial_cost", "n(n - 1)/2 with a float division", """
from functools import lru_cache

@lru_cache(maxsize=None)
def binomial_cost(n, slots):
    if n == 1:
        return 0
    if slots == 1:
        return n * (n - 1) / 2
    return min(m + binomial_cost(n - m, slots - 1) + binomial_cost(m, slots) for m in range(1, n))
""", "return an int"),
    Answer("ckpt_binomial_cost", "X not counted as a slot (base case at 0 slots)", """
from functools import lru_cache

@lru_cache(maxsize=None)
def binomial_cost(n, slots):
    if n == 1:
        return 0
    if slots == 0:          # no free slot left: re-run from X
        return n * (n - 1) // 2
    return min(m + binomial_cost(n - m, slots - 1) + binomial_cost(m, slots) for m in range(1, n))
""", "extra free slot"),
    Answer("ckpt_binomial_cost", "m stops at n - 2", """
from functools import lru_cache

@lru_cache(maxsize=None)
def binomial_cost(n, slots):
    if n == 1:
        return 0
    if slots == 1:
        return n * (n - 1) // 2
    return min(m + binomial_cost(n - m, slots - 1) + binomial_cost(m, slots) for m in range(1, n - 1))
""", "loop over m is empty"),
    Answer("ckpt_binomial_cost", "closed form, r one too small", """
def binomial_cost(n, slots):
    r = 0
    while math.comb(slots + r + 1, slots) < n:
        r += 1
    return r * n - math.comb(slots + r, slots + 1)
""", "one too small"),
    Answer("ckpt_binomial_cost", "closed form, subtracts C(s + r, s)", """
def binomial_cost(n, slots):
    r = 0
    while math.comb(slots + r, slots) < n:
        r += 1
    return r * n - math.comb(slots + r, slots)
""", "C(s + r, s + 1)"),
    Answer("ckpt_binomial_cost", "calls revolve_cost", """
def binomial_cost(n, slots):
    return revolve_cost(n, slots)
""", "reference implementation"),
    Answer("ckpt_binomial_cost", "the library's dynamic program under the task's name", """
from backprop_lib.checkpoint import revolve_cost_dp as binomial_cost
""", "reference implementation"),
    Answer("ckpt_binomial_cost", "closed form on the library's repetition number", """
from backprop_lib.checkpoint import revolve_repetitions

def binomial_cost(n, slots):
    r = revolve_repetitions(n, slots)
    return r * n - math.comb(slots + r, slots + 1)
""", "reference implementation"),
    Answer("ckpt_binomial_cost", "memoised recursion", """
from functools import lru_cache

def binomial_cost(n, slots):
    @lru_cache(maxsize=None)
    def F(k, s):
        if k == 1:
            return 0
        if s == 1:
            return k * (k - 1) // 2
        return min(m + F(k - m, s - 1) + F(m, s) for m in range(1, k))
    return F(n, slots)
""", None),
    Answer("ckpt_binomial_cost", "the closed form", """
def binomial_cost(n, slots):
    r = 0
    while math.comb(slots + r, slots) < n:
        r += 1
    return r * n - math.comb(slots + r, slots + 1)
""", None),
    Answer("ckpt_binomial_cost", "bottom-up with a dict and explicit loops", """
def binomial_cost(n, slots):
    F = {}
    for s in range(1, slots + 1):
        F[1, s] = 0
    for k in range(2, n + 1):
        F[k, 1] = sum(range(k))
        for s in range(2, slots + 1):
            best = None
            for m in range(1, k):
                cost = m + F[k - m, s - 1] + F[m, s]
                if best is None or cost < best:
                    best = cost
            F[k, s] = best
    return F[n, slots]
""", None),

    Answer("ckpt_binomial_cost", 'max over the splits', """
def binomial_cost(n, slots):
    from functools import lru_cache

    @lru_cache(maxsize=None)
    def F(n, s):
        if n == 1:
            return 0
        if s == 1:
            return n * (n - 1) // 2
        return max(m + F(n - m, s - 1) + F(m, s) for m in range(1, n))
    return F(n, slots)
""", 'not the maximum'),
    Answer("ckpt_binomial_cost", 'enough slots taken as free', """
def binomial_cost(n, slots):
    from functools import lru_cache

    @lru_cache(maxsize=None)
    def F(n, s):
        if n == 1:
            return 0
        if s >= n:
            return 0
        if s == 1:
            return n * (n - 1) // 2
        return min(m + F(n - m, s - 1) + F(m, s) for m in range(1, n))
    return F(n, slots)
""", 'F(n, n) = n - 1'),
    Answer("ckpt_binomial_cost", 'ok: memoised, with the shortcut F(n, s >= n) = n - 1', """
def binomial_cost(n, slots):
    from functools import lru_cache

    @lru_cache(maxsize=None)
    def F(n, s):
        if n == 1:
            return 0
        if s >= n:
            return n - 1
        if s == 1:
            return n * (n - 1) // 2
        return min(m + F(n - m, s - 1) + F(m, s) for m in range(1, n))
    return F(n, slots)
""", None),
    # ------------------------------------------------------------------ 6. fewest_slots
    Answer("ckpt_fewest_slots", "strict budget", """
def fewest_slots(n, budget):
    for s in range(1, n + 1):
        if revolve_cost(n, s) < budget:
            return s
    return None
""", "the budget is inclusive"),
    Answer("ckpt_fewest_slots", "adds a slot for the input", """
def fewest_slots(n, budget):
    for s in range(1, n + 1):
        if revolve_cost(n, s) <= budget:
            return s + 1        # plus the slot that holds X
    return None
""", "one too large"),
    Answer("ckpt_fewest_slots", "counts only the free slots", """
def fewest_slots(n, budget):
    for free in range(n):
        if revolve_cost(n, free + 1) <= budget:
            return free
    return None
""", "one too small"),
    Answer("ckpt_fewest_slots", "range(1, n) leaves out s = n", """
def fewest_slots(n, budget):
    for s in range(1, n):
        if revolve_cost(n, s) <= budget:
            return s
    return None
""", "s = n is allowed"),
    Answer("ckpt_fewest_slots", "returns n when nothing fits", """
def fewest_slots(n, budget):
    for s in range(1, n + 1):
        if revolve_cost(n, s) <= budget:
            return s
    return n
""", "return None"),
    Answer("ckpt_fewest_slots", "returns -1 when nothing fits", """
def fewest_slots(n, budget):
    for s in range(1, n + 1):
        if revolve_cost(n, s) <= budget:
            return s
    return -1
""", "return None"),
    Answer("ckpt_fewest_slots", "no break: the largest s that fits", """
def fewest_slots(n, budget):
    best = None
    for s in range(1, n + 1):
        if revolve_cost(n, s) <= budget:
            best = s
    return best
""", "LARGEST"),
    Answer("ckpt_fewest_slots", "search starts at s = 0", """
def fewest_slots(n, budget):
    for s in range(n + 1):
        if revolve_cost(n, s) <= budget:
            return s
    return None
""", "Start the search at s = 1"),
    Answer("ckpt_fewest_slots", "min over an empty generator", """
def fewest_slots(n, budget):
    return min(s for s in range(1, n + 1) if revolve_cost(n, s) <= budget)
""", "return None then"),
    Answer("ckpt_fewest_slots", "returns the cost", """
def fewest_slots(n, budget):
    for s in range(1, n + 1):
        cost = revolve_cost(n, s)
        if cost <= budget:
            return cost
    return None
""", "not the number of slots"),
    Answer("ckpt_fewest_slots", "binary search (the cost falls as s grows)", """
def fewest_slots(n, budget):
    if revolve_cost(n, n) > budget:
        return None
    lo, hi = 1, n
    while lo < hi:
        mid = (lo + hi) // 2
        if revolve_cost(n, mid) <= budget:
            hi = mid
        else:
            lo = mid + 1
    return lo
""", None),
    Answer("ckpt_fewest_slots", "next with a default", """
def fewest_slots(n, budget):
    return next((s for s in range(1, n + 1) if revolve_cost(n, s) <= budget), None)
""", None),
    Answer("ckpt_fewest_slots", "while loop", """
def fewest_slots(n, budget):
    s = 1
    while s <= n and revolve_cost(n, s) > budget:
        s += 1
    return s if s <= n else None
""", None),
    Answer("ckpt_fewest_slots", 'returns 0 when nothing fits', """
def fewest_slots(n, budget):
    for s in range(1, n + 1):
        if revolve_cost(n, s) <= budget:
            return s
    return 0
""", 'return None'),
]
