# bpsw_api.pxi: the Python-facing API: range checks, _sweep_impl, sweep, sweep_blocks, tests.
# Included by bpsw.pyx (textually, in its order); not a module of its own.

# ---------------------------------------------------------------- public API

def _check_range(a, b):
    if not isinstance(a, int) or not isinstance(b, int) or isinstance(a, bool) or isinstance(b, bool):
        raise TypeError(f"sweep bounds must be integers, got {type(a).__name__} and {type(b).__name__}")
    if a < 0:
        raise ValueError(f"sweep start must be >= 0, got {a}")
    if b > _TWO64:
        raise ValueError(f"sweep end must be <= 2**64, got {b}")
    if a > b:
        raise ValueError(f"sweep start {a} is greater than its end {b}")


def _check_n(n):
    if not isinstance(n, int) or isinstance(n, bool):
        raise TypeError(f"n must be an integer, got {type(n).__name__}")
    if n < 0 or n >= _TWO64:
        raise ValueError(f"n must satisfy 0 <= n < 2**64, got {n}")



def _check_block(block):
    if not isinstance(block, int) or isinstance(block, bool):
        raise TypeError(f"block length must be an integer, got {type(block).__name__}")
    if block < 1:
        raise ValueError(f"block length must be >= 1, got {block}")


def _block_layout(a, b, block):
    """(block length as the kernel stores it, number of blocks) of [a, b)."""
    nblocks = -(-(b - a) // block)
    if nblocks > MAX_BLOCKS:
        raise ValueError(f"block length {block} cuts [a, b) into {nblocks} blocks; at most "
                         f"{MAX_BLOCKS} are allowed")
    # a block at least as long as the range is the whole range; keep the length in 64 bits
    return min(block, U64_MAX), nblocks


def default_segment_bytes(b, a=None):
    """The segment length a sweep ending at b takes by default: LARGE_SEGMENT_BYTES where
    its sieving primes pass DEFAULT_SEGMENT_BYTES, else DEFAULT_SEGMENT_BYTES. With a, the
    sweep's start, no longer than the power of two at or above its odd numbers, and at
    least MIN_SEGMENT_BYTES: a segment is cleared, filled and scanned whole, which for a
    short sweep (an audit block of 40,000 numbers near 10^9) took half the time in
    segments of 2^21."""
    size = LARGE_SEGMENT_BYTES if _isqrt(max(b, 1) - 1) >= DEFAULT_SEGMENT_BYTES \
        else DEFAULT_SEGMENT_BYTES
    if a is not None:
        odd = max(b - a, 0) // 2 + 1
        while size > MIN_SEGMENT_BYTES and size // 2 >= odd:
            size //= 2
    return size


def _sweep_impl(a, b, *, method="auto", seg_bytes=None,
                ord_limit=DEFAULT_ORDER_LIMIT, max_entries=DEFAULT_MAX_ENTRIES, pass_len=None,
                array_limit=None, block=None, entry_bytes=None, set_passes=None,
                presieve_limit=DEFAULT_PRESIEVE_LIMIT, l1_block_bits=None):
    """sweep() with its tuning knobs exposed (for tests and benchmarks: presieve_limit=0
    turns the pre-sieve off, see presieve.h); returns
    (prime count, pseudoprimes, statistics). With block, statistics["block_counts"] holds
    the prime count of each block [a + i*block, min(a + (i+1)*block, b)), counted in the
    same pass."""
    _check_range(a, b)
    if block is not None:
        _check_block(block)
    if seg_bytes is None:
        seg_bytes = default_segment_bytes(b, a)
    elif not isinstance(seg_bytes, int) or isinstance(seg_bytes, bool):
        raise TypeError(f"seg_bytes must be an integer, got {type(seg_bytes).__name__}")
    if seg_bytes < 16 or seg_bytes > (1 << 24) or seg_bytes & (seg_bytes - 1):
        raise ValueError("seg_bytes must be a power of two between 16 and 2**24")
    blocks = None
    counts = []
    if block is not None:
        size, nblocks = _block_layout(a, b, block)
        counts = [0] * nblocks
        blocks = (a, size, nblocks) if nblocks else None
    count = 0
    if a <= 2 < b:
        count = 1
        if blocks is not None:
            counts[min((2 - a) // block, nblocks - 1)] += 1
    lo = max(a, 3) | 1
    last = b - 1
    if last % 2 == 0:
        last -= 1
    if lo > last:
        stats = {"method": "empty"}
    else:
        nidx = (last - lo) // 2 + 1
        sp_max = _isqrt(last)
        if method == "auto":
            # sieving costs ~10 ns per sieving prime per pass; testing ~150 ns per number
            method = "direct" if nidx * 15 < _estimate_pi(sp_max) or nidx < 64 else "sieve"
        if method == "direct":
            c, found, part = _sweep_direct(lo, last, blocks)
            stats = {"method": "direct"}
        elif method == "sieve":
            if entry_bytes not in (None, 4, 8):
                raise ValueError("entry_bytes must be 4, 8 or None")
            if pass_len is None:
                pass_len, entry_bytes = _plan_passes(nidx, sp_max, seg_bytes, max_entries,
                                                     entry_bytes)
            elif pass_len % seg_bytes or pass_len <= 0 or pass_len > (1 << 31):
                raise ValueError("pass_len must be a positive multiple of seg_bytes, at most 2**31")
            elif entry_bytes is None:
                entry_bytes = 8
            if set_passes is None:
                set_passes = _set_passes(nidx, sp_max, pass_len, ord_limit, max_entries)
            elif set_passes < 1:
                raise ValueError("set_passes must be at least 1")
            if array_limit is None:
                array_limit = max(64, seg_bytes // DEFAULT_ARRAY_DIVISOR)
            elif not 1 <= array_limit <= (1 << 24):
                raise ValueError("array_limit must be between 1 and 2**24")
            if not isinstance(presieve_limit, int) or not 0 <= presieve_limit <= 311:
                raise ValueError("presieve_limit must be an integer between 0 and 311")
            if l1_block_bits is None:
                l1_block_bits = L1_BLOCK_BITS
            elif (not isinstance(l1_block_bits, int) or l1_block_bits < 64
                    or l1_block_bits > (1 << 24) or l1_block_bits & (l1_block_bits - 1)):
                raise ValueError("l1_block_bits must be a power of two between 64 and 2**24")
            sw = _Sweep(lo, last, seg_bytes, ord_limit, array_limit, presieve_limit,
                        l1_block_bits)
            if blocks is not None:
                sw.set_blocks(*blocks)
            c, found, stats, part = sw.execute(pass_len, entry_bytes, set_passes)
            stats["method"] = "sieve"
        else:
            raise ValueError(f"unknown method {method!r}")
        count += c
        for i, k in enumerate(part):
            counts[i] += k
    if block is not None:
        if sum(counts) != count:  # cheap internal consistency check
            raise RuntimeError("bpsw sweep: block counts do not add up to the prime count")
        stats["block_counts"] = counts
    return count, ([] if lo > last else found), stats


def _isqrt(n):
    import math
    return math.isqrt(n)


def sweep(a, b):
    """sweep(a: int, b: int) -> tuple[int, list[tuple[int, bool]]]

    Exact sweep of [a, b), 0 <= a <= b <= 2**64: returns (number of primes in [a, b),
    [(n, passes_strong_lucas) for every base-2 strong pseudoprime n in [a, b), ascending])."""
    count, found, _ = _sweep_impl(a, b)
    return count, found


def sweep_blocks(a, b, block):
    """sweep_blocks(a: int, b: int, block: int) -> tuple[list[int], list[tuple[int, bool]]]

    The sweep of [a, b) with its prime count split by blocks: returns ([c_0, c_1, ...],
    pseudoprimes), c_i the number of primes in [a + i*block, min(a + (i+1)*block, b)) for
    i = 0 .. ceil((b - a) / block) - 1, and the pseudoprimes exactly as sweep(a, b) lists
    them; sum(c_i) == sweep(a, b)[0]. One pass over the range, about the cost of sweep().
    block >= 1 and at most MAX_BLOCKS blocks; the range checks are those of sweep()."""
    _check_range(a, b)
    _check_block(block)
    _, found, stats = _sweep_impl(a, b, block=block)
    return stats["block_counts"], found


def is_sprp2(n):
    """Whether n passes Miller-Rabin to base 2 (is a base-2 strong probable prime), n < 2**64."""
    _check_n(n)
    if n < 2:
        return False
    if n == 2:
        return True
    if n % 2 == 0:
        return False
    return bool(nw_sprp2(n))


def is_strong_lucas(n):
    """Whether n passes the strong Lucas test with Selfridge's parameters (method A), n < 2**64."""
    _check_n(n)
    if n < 2:
        return False
    if n == 2:
        return True
    if n % 2 == 0:
        return False
    return bool(nw_strong_lucas(n))


def is_prime(n):
    """Deterministic primality for n < 2**64 (Miller-Rabin with Sinclair's seven bases)."""
    _check_n(n)
    return bool(nw_is_prime(n))
