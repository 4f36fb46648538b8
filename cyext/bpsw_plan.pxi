# bpsw_plan.pxi: the pass planner: pass length, entry width, passes per pass-set.
# Included by bpsw.pyx (textually, in its order); not a module of its own.

# ---------------------------------------------------------------- pass planner

def _estimate_pi(double x):
    import math
    if x < 3:
        return 1.0
    return x / (math.log(x) - 1.0)


def _pass_entries(plen, sp_max, seg_bytes, block_n=BLOCK_N):
    """The bucket entries a pass of plen odd numbers is expected to need at most, counting
    the partly filled block (block_n entries) of each bucket in use."""
    import math
    log_sp = math.log(max(sp_max, 3))
    # every prime below the pass length has one pending hit; a larger prime p one
    # with probability plen / p, kept unless a small prime rules the number out
    x = float(min(plen, sp_max))
    est = _estimate_pi(x)
    if sp_max > plen:
        est += plen * math.log(log_sp / math.log(plen)) * _ALIVE
    # a prime's next hit is at most sp_max odd numbers ahead: the buckets holding
    # entries at any moment span at most that many segments
    return est + (min(plen, sp_max) // seg_bytes + 2) * block_n


def _pass_length(nidx, sp_max, seg_bytes, max_entries, block_n=BLOCK_N):
    """Longest pass (in odd numbers, a multiple of the segment, at most 2**31) whose bucket
    entries are expected to fit max_entries (see _pass_entries; at least one segment)."""
    lo, hi = 1, max(1, min(-(-nidx // seg_bytes), (1 << 31) // seg_bytes))
    while lo < hi:  # the largest number of segments that fits (at least one)
        mid = (lo + hi + 1) // 2
        if _pass_entries(mid * seg_bytes, sp_max, seg_bytes, block_n) <= max_entries:
            lo = mid
        else:
            hi = mid - 1
    # spread the range evenly over the passes it needs
    passes = -(-nidx // (lo * seg_bytes))
    return -(-nidx // (passes * seg_bytes)) * seg_bytes


def _plan_passes(nidx, sp_max, seg_bytes, max_entries, entry_bytes=None):
    """(pass length, entry bytes) for a budget of max_entries 4-byte bucket slots. Wide
    entries (8 bytes: the prime and its offset) take two slots but spare a division per
    entry; they are used unless the narrow ones (4 bytes, the prime alone) take fewer
    passes, which far from 0 they do (every pass streams the primes up to sqrt(b) anew)."""
    narrow = _pass_length(nidx, sp_max, seg_bytes, max_entries)
    wide = _pass_length(nidx, sp_max, seg_bytes, max_entries // 2, BLOCK_N // 2)
    if entry_bytes is None:
        fits = _pass_entries(wide, sp_max, seg_bytes, BLOCK_N // 2) <= max_entries // 2
        entry_bytes = 8 if fits and -(-nidx // wide) <= -(-nidx // narrow) else 4
    return (wide if entry_bytes == 8 else narrow), entry_bytes


def _set_passes(nidx, sp_max, pass_len, ord_limit, max_entries):
    """Passes per pass-set (see _Sweep.run): as many as keep the lists of the later passes
    within max_entries bytes (a quarter of the bucket budget), at about two bytes for each
    listed prime (each prime above max(pass_len, ord_limit) that a pass must mark)."""
    import math
    passes = -(-nidx // pass_len)
    thr = max(pass_len, ord_limit)
    if passes < 2 or sp_max <= thr:
        return 1
    per_pass = 2.0 * pass_len * math.log(math.log(sp_max) / math.log(thr)) * _ALIVE
    return int(max(1, min(passes, 1 + max_entries // max(per_pass, 1.0))))
