"""Homework 1 template as handed out: every symbol exists, every body raises NotImplementedError."""

import torch
from torch import nn


def sigmoid(x):
    raise NotImplementedError


def tanh(x):
    raise NotImplementedError


def relu(x):
    raise NotImplementedError


def leaky_relu(x, negative_slope=0.01):
    raise NotImplementedError


def binary_step(x):
    raise NotImplementedError


def softmax(z, dim=-1):
    raise NotImplementedError


def log_softmax(z, dim=-1):
    raise NotImplementedError


def cross_entropy(logits, target):
    raise NotImplementedError


def mse_loss(pred, target):
    raise NotImplementedError


class LinearFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, *args):
        raise NotImplementedError

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError


class Linear(nn.Module):
    def __init__(self, in_features, out_features, bias=True):
        raise NotImplementedError

    def forward(self, x):
        raise NotImplementedError


def xavier_uniform_(tensor, gain=1.0):
    raise NotImplementedError


def xavier_normal_(tensor, gain=1.0):
    raise NotImplementedError


def kaiming_normal_(tensor, a=0, nonlinearity="relu"):
    raise NotImplementedError


def l1_penalty(parameters):
    raise NotImplementedError


def l2_penalty(parameters):
    raise NotImplementedError


class Dropout(nn.Module):
    def __init__(self, p=0.5):
        raise NotImplementedError

    def forward(self, x):
        raise NotImplementedError


class BatchNorm1d(nn.Module):
    def __init__(self, num_features, eps=1e-5, momentum=0.1):
        raise NotImplementedError

    def forward(self, x):
        raise NotImplementedError


class SGD(torch.optim.Optimizer):
    def __init__(self, params, lr, momentum=0.0, weight_decay=0.0):
        raise NotImplementedError

    @torch.no_grad()
    def step(self, closure=None):
        raise NotImplementedError


class Adam(torch.optim.Optimizer):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        raise NotImplementedError

    @torch.no_grad()
    def step(self, closure=None):
        raise NotImplementedError


def clip_grad_norm_(parameters, max_norm):
    raise NotImplementedError
