"""minigrad: a small reverse-mode autograd tensor library on numpy, with PyTorch's API.

>>> import minigrad
>>> x = minigrad.tensor([1.0, 2.0, 3.0], requires_grad=True)
>>> y = (x ** 2).sum()
>>> y.backward()
>>> x.grad
tensor([2., 4., 6.])
"""

from . import nn, ops, optim, random
from ._dtype import bool as bool  # noqa: PLC0414 - torch.bool
from ._dtype import (
    bool_,
    double,
    float,
    float16,
    float32,
    float64,
    get_default_dtype,
    half,
    int8,
    int16,
    int32,
    int64,
    long,
    set_default_dtype,
    uint8,
)
from ._dtype import int as int  # noqa: PLC0414 - torch.int
from .functions import (
    abs,
    argmax,
    argmin,
    clamp,
    clip,
    cos,
    exp,
    flatten,
    gather,
    log,
    log_softmax,
    logsumexp,
    masked_fill,
    matmul,
    max,
    mean,
    min,
    permute,
    relu,
    reshape,
    sigmoid,
    sin,
    softmax,
    sqrt,
    squeeze,
    std,
    sum,
    tanh,
    topk,
    transpose,
    unbind,
    unsqueeze,
    var,
)
from .gradcheck import GradcheckError, gradcheck
from .random import manual_seed
from .serialization import load, save
from .tensor import (
    Function,
    Tensor,
    allclose,
    arange,
    as_tensor,
    cat,
    chunk,
    concat,
    detect_anomaly,
    empty,
    enable_grad,
    eye,
    from_numpy,
    full,
    full_like,
    is_anomaly_enabled,
    is_grad_enabled,
    is_tensor,
    linspace,
    multinomial,
    no_grad,
    numel,
    ones,
    ones_like,
    rand,
    rand_like,
    randint,
    randn,
    randn_like,
    randperm,
    set_grad_enabled,
    split,
    stack,
    tensor,
    where,
    zeros,
    zeros_like,
)

__version__ = "0.1.0"
