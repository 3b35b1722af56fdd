"""Quaternions ``(w, x, y, z)`` in numpy, as the HumanML3D feature code needs them: products, inverses,
rotating vectors, the rotation between two directions, the 6D continuous form and yaw rotations."""
from __future__ import annotations

import numpy as np


def qmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    aw, ax, ay, az = np.moveaxis(a, -1, 0)
    bw, bx, by, bz = np.moveaxis(b, -1, 0)
    return np.stack([aw * bw - ax * bx - ay * by - az * bz, aw * bx + ax * bw + ay * bz - az * by,
                     aw * by - ax * bz + ay * bw + az * bx, aw * bz + ax * by - ay * bx + az * bw], axis=-1)


def qinv(q: np.ndarray) -> np.ndarray:
    return q * np.array([1.0, -1.0, -1.0, -1.0])


def qrot(q: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Rotate vectors ``v[..., 3]`` by unit quaternions ``q[..., 4]`` (broadcast)."""
    qv = np.broadcast_to(q[..., 1:], np.broadcast_shapes(q.shape[:-1], v.shape[:-1]) + (3,))
    uv = np.cross(qv, v)
    return v + 2.0 * (q[..., :1] * uv + np.cross(qv, uv))


def qbetween(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Unit quaternion of the minimal rotation taking direction ``u`` to ``v`` (w >= 0, as HumanML3D's).

    A zero-length ``v`` gives the identity and exactly opposite directions a half turn about an
    axis normal to ``u`` (HumanML3D gets NaN in both cases)."""
    u, v = np.broadcast_arrays(np.asarray(u, np.float64), np.asarray(v, np.float64))
    w = np.sqrt(np.sum(u * u, -1, keepdims=True) * np.sum(v * v, -1, keepdims=True)) + np.sum(u * v, -1, keepdims=True)
    q = np.concatenate([w, np.cross(u, v)], axis=-1)
    n = np.linalg.norm(q, axis=-1, keepdims=True)
    bad = n[..., 0] < 1e-9
    if np.any(bad):
        vlen = np.linalg.norm(v, axis=-1)
        axis = np.cross(u, np.array([1.0, 0.0, 0.0]))
        axis = np.where(np.linalg.norm(axis, axis=-1, keepdims=True) < 1e-6, np.cross(u, np.array([0.0, 0.0, 1.0])),
                        axis)
        half_turn = np.concatenate([np.zeros_like(w), axis], axis=-1)
        ident = np.zeros_like(q)
        ident[..., 0] = 1.0
        q = np.where(bad[..., None], np.where((vlen < 1e-9)[..., None], ident, half_turn), q)
        n = np.linalg.norm(q, axis=-1, keepdims=True)
    return q / n


def quat_to_cont6d(q: np.ndarray) -> np.ndarray:
    """First two columns of the rotation matrix of ``q``, concatenated: [..., 6]."""
    w, x, y, z = np.moveaxis(q, -1, 0)
    col0 = np.stack([1 - 2 * (y * y + z * z), 2 * (x * y + w * z), 2 * (x * z - w * y)], axis=-1)
    col1 = np.stack([2 * (x * y - w * z), 1 - 2 * (x * x + z * z), 2 * (y * z + w * x)], axis=-1)
    return np.concatenate([col0, col1], axis=-1)


def yaw_quat(ang: np.ndarray) -> np.ndarray:
    """Quaternion of a rotation by ``ang`` about +y."""
    ang = np.asarray(ang, np.float64)
    z = np.zeros_like(ang)
    return np.stack([np.cos(ang / 2), z, np.sin(ang / 2), z], axis=-1)
