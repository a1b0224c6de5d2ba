"""Convolutions as layers: ``Conv`` (1-D, 2-D, 3-D), ``ConvTranspose`` and the quantized forms.

Mapping to the 8 loop parameters (N batch, C/K input/output channels, G groups):

* 2-D ``Conv``: ``K, B=N, P, Q`` (output height, width), ``C, R, S`` (kernel), ``G``, strides and
  dilations per dimension.
* 1-D ``Conv``: as 2-D with ``P = R = 1`` (width only).
* 3-D ``Conv`` (input ``N x C x D x H x W``, kernel ``kd x kh x kw``, output depth ``Do``): each
  output depth slice is a 2-D convolution over the ``kd`` input slices it reads, so the layer is
  ``B = N*Do``, ``C = C*kd`` (the ``kd`` slices stacked as channels, per group), ``R = kh``,
  ``S = kw``, ``P, Q`` the output height and width. The MACs are exact; the input traffic counts
  each input slice once per output slice that reads it (like an im2col in depth).
* ``ConvTranspose`` (stride ``s``, kernel ``k``, dilation ``d``, begin padding ``p``): the
  standard decomposition into ``s_h x s_w`` stride-1 sub-convolutions, one per output phase
  ``(o_h mod s_h, o_w mod s_w)``. Phase ``phi`` along a dimension computes the outputs
  ``o = phi (mod s)`` with the kernel taps ``r`` where ``(phi + p - r*d) mod s = 0`` (dilation
  ``d / gcd(s, d)`` between them), so no inserted zero is ever multiplied. Phases with the same
  shape are one layer with ``repeat`` = their number. The MACs equal input pixels x kernel taps x
  ``K/G`` (``N*C*(K/G)*H*W*kh*kw``) whenever the output is not larger than ``s`` x the input
  (every standard up-sampling configuration); an output border beyond that is counted like a
  ``Conv``'s padding. 1-D works the same way; 3-D transposed convolutions are skipped (with
  their MACs).
* ``QLinearConv`` (input 0, weight 3) and ``ConvInteger`` (input 0, weight 1) map like ``Conv``;
  a QDQ graph's ``DequantizeLinear -> Conv`` is a plain ``Conv`` whose weight is constant.
"""
from __future__ import annotations

import math
from typing import Sequence

from ..layer import Layer
from ._node import Extracted, NodeContext, layers, skipped


#: Most output phases (product of the strides) a ConvTranspose is decomposed into.
_MAX_PHASES = 4096
#: Most stride x kernel pairs enumerated along one dimension.
_MAX_TAP_WORK = 1 << 16


def _ints(v: object) -> tuple[int, ...]:
    return tuple(int(x) for x in v)  # type: ignore[attr-defined]


def conv(ctx: NodeContext, *, x_slot: int = 0, w_slot: int = 1) -> Extracted:
    """``Conv`` (and ``FusedConv``, ``QLinearConv``, ``ConvInteger``) -> one layer."""
    x, w = ctx.in_shape(x_slot), ctx.in_shape(w_slot)
    op = ctx.node.op_type
    if x is None or w is None:
        return skipped(f"{op} (unknown shapes)", None)
    nsp = len(x) - 2
    if len(w) != len(x) or nsp < 1:
        raise ctx.fail(f"input {list(x)} and weight {list(w)} do not make a convolution")
    group = int(ctx.attr("group", 1))  # type: ignore[arg-type]
    kernel = _ints(ctx.attr("kernel_shape", w[2:]))
    strides = _ints(ctx.attr("strides", [1] * nsp))
    dils = _ints(ctx.attr("dilations", [1] * nsp))
    pads = _ints(ctx.attr("pads", [0] * 2 * nsp))
    auto_pad = ctx.str_attr("auto_pad", "NOTSET")
    n, c, spatial = x[0], x[1], x[2:]
    k_out, c_per_group = w[0], w[1]
    if kernel != tuple(w[2:]):
        raise ctx.fail(f"kernel_shape {list(kernel)} differs from weight shape {list(w)}")
    if group < 1 or c != c_per_group * group:
        raise ctx.fail(f"input has {c} channels but weight {list(w)} with group={group} expects "
                       f"{c_per_group * group}")
    if k_out % group:
        raise ctx.fail(f"{k_out} output channels are not divisible by group={group}")
    if len(strides) != nsp or len(dils) != nsp or len(pads) != 2 * nsp:
        raise ctx.fail(f"strides {list(strides)}, dilations {list(dils)} or pads {list(pads)} do "
                       f"not match a {nsp}-D convolution")
    out: list[int] = []
    for i in range(nsp):
        extent = (kernel[i] - 1) * dils[i] + 1
        if auto_pad in ("SAME_UPPER", "SAME_LOWER"):
            o = math.ceil(spatial[i] / strides[i])
        elif auto_pad == "VALID":
            o = (spatial[i] - extent) // strides[i] + 1
        else:
            o = (spatial[i] + pads[i] + pads[i + nsp] - extent) // strides[i] + 1
        out.append(o)
    if min(out) < 1:
        raise ctx.fail(f"a {list(kernel)} kernel on a {list(spatial)} input gives an empty output")
    y = ctx.out_shape(0)
    if y is not None and (tuple(y[2:]) != tuple(out) or y[1] != k_out or y[0] != n):
        raise ctx.fail(f"output shape {list(y)} differs from the computed {[n, k_out, *out]}")
    kind = "Conv" if op in ("Conv", "FusedConv") else op
    if nsp == 1:
        return layers(Layer(name=ctx.name, K=k_out, B=n, P=1, Q=out[0], C=c, R=1, S=kernel[0],
                            G=group, stride_h=1, stride_w=strides[0], dilation_h=1,
                            dilation_w=dils[0], op=kind))
    if nsp == 2:
        return layers(Layer(name=ctx.name, K=k_out, B=n, P=out[0], Q=out[1], C=c, R=kernel[0],
                            S=kernel[1], G=group, stride_h=strides[0], stride_w=strides[1],
                            dilation_h=dils[0], dilation_w=dils[1], op=kind))
    if nsp == 3:
        # Each output depth slice is a 2-D convolution over the kd input slices it reads.
        return layers(Layer(name=ctx.name, K=k_out, B=n * out[0], P=out[1], Q=out[2],
                            C=c * kernel[0], R=kernel[1], S=kernel[2], G=group,
                            stride_h=strides[1], stride_w=strides[2], dilation_h=dils[1],
                            dilation_w=dils[2], op=kind))
    macs = n * k_out * math.prod(out) * c_per_group * math.prod(kernel)
    return skipped(f"{op} ({nsp}-D)", macs)


def _phases(size_in: int, size_out: int, k: int, s: int, d: int, pad_begin: int
            ) -> list[tuple[int, int, int]]:
    """Per output phase along one dimension: (outputs, taps, tap dilation); empty phases out."""
    out = []
    for phi in range(s):
        outputs = len(range(phi, size_out, s))
        taps = sum(1 for r in range(k) if (phi + pad_begin - r * d) % s == 0)
        if outputs and taps:
            out.append((outputs, taps, d // math.gcd(s, d)))
    return out


def conv_transpose(ctx: NodeContext) -> Extracted:
    """``ConvTranspose`` -> one stride-1 layer per distinct output phase (see module doc)."""
    x, w = ctx.in_shape(0), ctx.in_shape(1)
    if x is None or w is None:
        return skipped("ConvTranspose (unknown shapes)", None)
    nsp = len(x) - 2
    if len(w) != len(x) or nsp < 1:
        raise ctx.fail(f"input {list(x)} and weight {list(w)} do not make a transposed convolution")
    group = int(ctx.attr("group", 1))  # type: ignore[arg-type]
    n, c, spatial = x[0], x[1], x[2:]
    if w[0] != c or group < 1 or c % group:
        raise ctx.fail(f"input has {c} channels but weight {list(w)} with group={group} expects "
                       f"{w[0]}")
    k_out = w[1] * group
    kernel = _ints(ctx.attr("kernel_shape", w[2:]))
    strides = _ints(ctx.attr("strides", [1] * nsp))
    dils = _ints(ctx.attr("dilations", [1] * nsp))
    if kernel != tuple(w[2:]) or len(strides) != nsp or len(dils) != nsp:
        raise ctx.fail(f"kernel_shape {list(kernel)}, strides {list(strides)} or dilations "
                       f"{list(dils)} do not match weight {list(w)}")
    input_macs = n * c * w[1] * math.prod(spatial) * math.prod(kernel)
    if nsp > 2:
        return skipped(f"ConvTranspose ({nsp}-D)", input_macs)
    if math.prod(strides) > _MAX_PHASES or any(s * k > _MAX_TAP_WORK for s, k in zip(strides, kernel)):
        # Bounds the work a small file can cause (phases x taps are enumerated).
        return skipped("ConvTranspose (stride too large)", input_macs)
    out_sizes, pad_begin = _transpose_output(ctx, spatial, kernel, strides, dils, nsp)
    dims = [_phases(spatial[i], out_sizes[i], kernel[i], strides[i], dils[i], pad_begin[i])
            for i in range(nsp)]
    if nsp == 1:
        dims = [[(1, 1, 1)], dims[0]]
    groups: dict[tuple[int, ...], list[str]] = {}
    for hi, (p, r, dh) in enumerate(dims[0]):
        for wi, (q, s, dw) in enumerate(dims[1]):
            groups.setdefault((p, r, dh, q, s, dw), []).append(f"{hi}_{wi}")
    result = []
    for (p, r, dh, q, s, dw), phases in groups.items():
        result.append(Layer(name=f"{ctx.name}.phase{phases[0]}", K=k_out, B=n, P=p, Q=q, C=c,
                            R=r, S=s, G=group, dilation_h=dh, dilation_w=dw, op="ConvTranspose",
                            repeat=len(phases)))
    if not result:
        return Extracted()
    return layers(*result)


def _transpose_output(ctx: NodeContext, spatial: Sequence[int], kernel: Sequence[int],
                      strides: Sequence[int], dils: Sequence[int], nsp: int
                      ) -> tuple[list[int], list[int]]:
    """Output sizes and begin paddings of a ``ConvTranspose`` (ONNX's rules)."""
    pads = _ints(ctx.attr("pads", [0] * 2 * nsp))
    out_pad = _ints(ctx.attr("output_padding", [0] * nsp))
    out_shape = _ints(ctx.attr("output_shape", []))
    auto_pad = ctx.str_attr("auto_pad", "NOTSET")
    if len(pads) != 2 * nsp or len(out_pad) != nsp:
        raise ctx.fail(f"pads {list(pads)} or output_padding {list(out_pad)} do not match a "
                       f"{nsp}-D transposed convolution")
    sizes, begins = [], []
    for i in range(nsp):
        full = strides[i] * (spatial[i] - 1) + out_pad[i] + (kernel[i] - 1) * dils[i] + 1
        if out_shape or auto_pad in ("SAME_UPPER", "SAME_LOWER"):
            target = out_shape[-nsp + i] if out_shape else spatial[i] * strides[i]
            total = full - target
            begin = total - total // 2 if auto_pad == "SAME_LOWER" else total // 2
            if not out_shape and auto_pad == "SAME_UPPER":
                begin = total // 2
            sizes.append(target)
            begins.append(begin)
        elif auto_pad == "VALID":
            sizes.append(full)
            begins.append(0)
        else:
            sizes.append(full - pads[i] - pads[i + nsp])
            begins.append(pads[i])
    y = ctx.out_shape(0)
    if y is not None and tuple(y[2:]) != tuple(sizes):
        raise ctx.fail(f"output shape {list(y)} differs from the computed spatial size {sizes}")
    if min(sizes) < 1:
        raise ctx.fail(f"output size {sizes} is empty")
    return sizes, begins
