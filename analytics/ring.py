"""Placement of keys on a host list, compatible with the router py-analytics 0.6.x used.

That router (nydus' consistent-hashing "ketama" ring) worked as follows, and so
does this one, so that a key lands on the same host as it always did:

* every distinct host identifier owns 160 points: for ``i`` in ``0..39`` the MD5
  digest of ``"<identifier>-<i>-salt"``, cut into four little-endian unsigned
  32-bit integers;
* a key's position is the first four bytes of the MD5 of its UTF-8 bytes, read the
  same way;
* the key belongs to the owner of the first point strictly greater than its
  position, wrapping around to the smallest point.
"""
import bisect
import hashlib
import struct
from typing import Callable, Dict, List, Sequence, Tuple, TypeVar, Union

try:
    # CPython's own MD5: on a key's few dozen bytes, half the cost of OpenSSL's
    # behind hashlib.md5 (which looks the algorithm up on every call).
    from _md5 import md5 as _md5  # type: ignore[import-not-found]
except ImportError:  # pragma: no cover - a Python built without it
    _md5 = hashlib.md5

T = TypeVar("T")

POINTS_PER_HASH = 4
HASHES_PER_NODE = 40
_FOUR_UINT32 = struct.Struct("<4I")
_ONE_UINT32 = struct.Struct("<I")


def key_position(key: Union[str, bytes]) -> int:
    """The ring position of a key (text is hashed as its UTF-8 bytes, bytes as they are)."""
    data = key if isinstance(key, bytes) else key.encode("utf-8")
    return _ONE_UINT32.unpack_from(_md5(data).digest())[0]


def node_points(identifier: str, hashes: int = HASHES_PER_NODE) -> List[int]:
    """The ring points owned by one identifier."""
    points: List[int] = []
    for i in range(hashes):
        digest = _md5(("%s-%s-salt" % (identifier, i)).encode("utf-8")).digest()
        points.extend(_FOUR_UINT32.unpack(digest))
    return points


class HashRing:
    """Maps keys to the indexes of the hosts that hold them.

    ``identifiers[i]`` is host ``i``'s identifier.  Hosts sharing an identifier
    share its points, so :meth:`nodes_for` returns all of them (0.6.x then wrote
    to each); the backend refuses such configurations (POLICY C9), the ring only
    describes them.
    """

    def __init__(self, identifiers: Sequence[str]):
        if not identifiers:
            raise ValueError("a hash ring needs at least one host")
        owners: Dict[str, List[int]] = {}
        for index, identifier in enumerate(identifiers):
            owners.setdefault(identifier, []).append(index)
        # Weight 1 each, as the original: floor(40 * n * 1 / n) hashes per node.
        ring: Dict[int, Tuple[int, ...]] = {}
        for identifier, indexes in owners.items():
            for point in node_points(identifier):
                ring[point] = tuple(indexes)
        self._points = sorted(ring)
        self._owners = [ring[point] for point in self._points]
        self._nodes_for = self._lookup(self._owners)

    @property
    def points(self) -> List[Tuple[int, Tuple[int, ...]]]:
        """The whole ring, ascending: ``(point, host indexes)``."""
        return list(zip(self._points, self._owners))

    def _lookup(self, at_points: Sequence[T]) -> Callable[[Union[str, bytes]], T]:
        """A function of a key giving ``at_points[i]``, ``i`` the index of the key's point."""
        points, last, position, first_after = self._points, len(self._points), key_position, bisect.bisect_right

        def lookup(key: Union[str, bytes]) -> T:
            slot = first_after(points, position(key))
            return at_points[slot] if slot < last else at_points[0]

        return lookup

    def nodes_for(self, key: Union[str, bytes]) -> Tuple[int, ...]:
        """Every host index that holds ``key``."""
        return self._nodes_for(key)

    def node_for(self, key: Union[str, bytes]) -> int:
        """The host index that holds ``key`` (the first one, if identifiers repeat)."""
        return self._nodes_for(key)[0]

    def placer(self, hosts: Sequence[T]) -> Callable[[Union[str, bytes]], T]:
        """A function of a key giving ``hosts[node_for(key)]``, calling nothing but :func:`key_position`.

        A store places every key of a batch it does not remember: the fewer
        calls per key, the faster a bulk load over a host list.
        """
        return self._lookup([hosts[owners[0]] for owners in self._owners])
