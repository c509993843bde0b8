"""The functional core: pure NumPy functions, each forward beside its backward.

Arrays are NCHW for images and (N, D) for features; float32 by default, float64
accepted (the result takes the wider type). Every forward returns (out, cache)
and every backward takes (dout, cache). Bad input raises ValueError naming the
problem.
"""

from engine.functional.activations import (
    leaky_relu,
    leaky_relu_backward,
    relu,
    relu_backward,
    sigmoid,
    sigmoid_backward,
    tanh,
    tanh_backward,
)
from engine.functional.conv import (
    ConvCache,
    col2im,
    conv2d,
    conv2d_backward,
    conv2d_partials,
    conv2d_true,
    conv2d_true_backward,
    conv_output_shape,
    im2col,
)
from engine.functional.dense import dense, dense_backward, flatten, flatten_backward
from engine.functional.explain import (
    Explanation,
    Factor,
    Term,
    explain_avg_pool,
    explain_conv_input_delta,
    explain_conv_output,
    explain_dense_input_delta,
    explain_max_pool,
    explain_pool_input_delta,
    explain_pool_output,
    explain_pool_routing,
)
from engine.functional.losses import check_labels, mse, softmax, softmax_cross_entropy
from engine.functional.naive import (
    avg_pool2d_backward_naive,
    avg_pool2d_naive,
    conv2d_backward_naive,
    conv2d_naive,
    max_pool2d_backward_naive,
    max_pool2d_naive,
)
from engine.functional.pool import (
    PoolCache,
    avg_pool2d,
    avg_pool2d_backward,
    max_pool2d,
    max_pool2d_backward,
    max_pool2d_mask,
    pool_output_shape,
)

__all__ = [
    "ConvCache",
    "Explanation",
    "Factor",
    "PoolCache",
    "Term",
    "avg_pool2d",
    "avg_pool2d_backward",
    "avg_pool2d_backward_naive",
    "avg_pool2d_naive",
    "check_labels",
    "col2im",
    "conv2d",
    "conv2d_backward",
    "conv2d_backward_naive",
    "conv2d_naive",
    "conv2d_partials",
    "conv2d_true",
    "conv2d_true_backward",
    "conv_output_shape",
    "dense",
    "dense_backward",
    "explain_avg_pool",
    "explain_conv_input_delta",
    "explain_conv_output",
    "explain_dense_input_delta",
    "explain_max_pool",
    "explain_pool_input_delta",
    "explain_pool_output",
    "explain_pool_routing",
    "flatten",
    "flatten_backward",
    "im2col",
    "leaky_relu",
    "leaky_relu_backward",
    "max_pool2d",
    "max_pool2d_backward",
    "max_pool2d_backward_naive",
    "max_pool2d_mask",
    "max_pool2d_naive",
    "mse",
    "pool_output_shape",
    "relu",
    "relu_backward",
    "sigmoid",
    "sigmoid_backward",
    "softmax",
    "softmax_cross_entropy",
    "tanh",
    "tanh_backward",
]
