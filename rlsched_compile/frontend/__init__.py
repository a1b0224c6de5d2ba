"""ONNX frontend: :func:`load_network` turns a model into a :class:`~rlsched_compile.network.Network`;
:mod:`.zoo` builds the shipped model zoo.

Every operator that holds multiply-accumulates becomes one or more layers of the 8-parameter
form (``K, B, P, Q, C, R, S, G``, stride, dilation, and a ``repeat`` count), with exact MACs:

=============================================  ===================================================
operator                                        layers (details in the module named)
=============================================  ===================================================
``Conv`` 2-D / 1-D, ``FusedConv``,              one layer; 1-D: ``P = R = 1``; 3-D: ``B = N*D_out``,
``QLinearConv``, ``ConvInteger``                ``C = C*k_d`` (:mod:`._conv`)
``ConvTranspose`` 1-D / 2-D                     one stride-1 layer per distinct output phase,
                                                ``repeat`` = phases alike; no inserted zeros
                                                (:mod:`._conv`)
``Gemm``, ``FusedGemm``, ``QGemm``,             fully connected (``B`` rows, ``C`` in, ``K`` out)
``MatMul`` with a constant 2-D weight           (:mod:`._matmul`)
``MatMul`` / ``FusedMatMul`` /                  ``G`` = batch dims (heads), ``B`` = rows,
``MatMulInteger`` / ``QLinearMatMul`` of two    ``K/G`` = columns, ``C/G`` = inner; the second
activations or batched, ``Einsum`` (2 inputs)   operand takes the weight path (:mod:`._matmul`)
``Attention`` (opset 23), ``com.microsoft``     ``.qk`` and ``.av`` batched products per head (+
``Attention`` / ``MultiHeadAttention`` /        ``.qkv`` projection for ``com.microsoft.Attention``)
``GroupQueryAttention`` / ``QAttention``        (:mod:`._attention`)
``LSTM`` / ``GRU`` / ``RNN``                    per direction ``.input`` (``B = T*N``) and
                                                ``.recurrent`` (``B = N``, ``repeat = T``)
                                                (:mod:`._recurrent`)
=============================================  ===================================================

An operator that holds MACs but cannot be scheduled (a 3-D ``ConvTranspose``, an ``Einsum`` of
three operands, unknown shapes, ``DeformConv``) is listed in ``Network.unsupported`` with its
exact MACs where they are known; ``Network.coverage`` is the scheduled share of the model's MACs.
Quantized graphs: QDQ (``DequantizeLinear`` in front of ``Conv``/``MatMul``: a weight behind a
``DequantizeLinear`` is constant) and QOperator forms both schedule.
"""
from __future__ import annotations

from ..network import LayerGroup, Network, UnsupportedOp
from .loader import load_network
from .zoo import build_all, zoo_path

__all__ = ["LayerGroup", "Network", "UnsupportedOp", "build_all", "load_network", "zoo_path"]
