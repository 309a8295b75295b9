"""ITU-T G.107 E-model: transmission rating factor R and MOS for narrowband telephony.

The E-model (Rec. ITU-T G.107 (06/2015), clause 7) rates a one-way speech path by

    R = Ro − Is − Id − Ie,eff + A

where ``Ro`` is the basic signal-to-noise ratio, ``Is`` the impairments that occur
simultaneously with speech (loudness, sidetone, quantisation), ``Id`` the impairments
caused by delay (talker echo, listener echo, absolute delay), ``Ie,eff`` the effective
equipment impairment of the codec under packet loss, and ``A`` the advantage factor.
Every formula below is the one in G.107 clause 7; the defaults are those of G.107
Table 3, for which R = 93.2 (G.107 §7.7).

Codec impairments (``Ie``) and packet-loss robustness (``Bpl``) come from ITU-T G.113
Appendix I (Tables I.1 and I.3); see :data:`CODECS`.

Everything here is vectorised: pass numpy arrays (or scalars) and they broadcast.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, overload

from sqm.lazy import lazy_import
from sqm.methods._validation import FloatArray, MethodInputError

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
else:
    np = lazy_import("numpy")
    npt = lazy_import("numpy.typing")

__all__ = [
    "CODECS",
    "Codec",
    "EModelResult",
    "TransmissionParameters",
    "burst_ratio_from_markov",
    "codec",
    "e_model",
    "effective_equipment_impairment",
    "mos_from_r",
    "r_factor",
]

ArrayLike = float | int | npt.ArrayLike


@dataclass(frozen=True)
class TransmissionParameters:
    """The E-model inputs with their ITU-T G.107 Table 3 default values.

    Loudness ratings and losses are in dB, noise levels in dBm0p / dBmp / dB(A),
    delays in ms, packet loss ``ppl`` in percent.

    >>> TransmissionParameters().slr
    8.0
    """

    slr: float = 8.0  # send loudness rating, dB
    rlr: float = 2.0  # receive loudness rating, dB
    stmr: float = 15.0  # sidetone masking rating, dB
    lstr: float = 18.0  # listener sidetone rating, dB
    ds: float = 3.0  # D-value of telephone, send side
    dr: float = 3.0  # D-value of telephone, receive side
    telr: float = 65.0  # talker echo loudness rating, dB
    wepl: float = 110.0  # weighted echo path loss, dB
    t: float = 0.0  # mean one-way delay of the echo path, ms
    tr: float = 0.0  # round-trip delay in a 4-wire loop, ms
    ta: float = 0.0  # absolute delay in echo-free connections, ms
    qdu: float = 1.0  # number of quantisation distortion units
    ie: float = 0.0  # equipment impairment factor
    bpl: float = 4.3  # packet-loss robustness factor
    ppl: float = 0.0  # random packet-loss probability, %
    burst_r: float = 1.0  # burst ratio
    nc: float = -70.0  # circuit noise referred to the 0 dBr point, dBm0p
    nfor: float = -64.0  # noise floor at the receive side, dBmp
    ps: float = 35.0  # room noise at the send side, dB(A)
    pr: float = 35.0  # room noise at the receive side, dB(A)
    a: float = 0.0  # advantage factor
    mt: float = 100.0  # minimum perceivable delay for Idd, ms (G.107 (06/2015))
    st: float = 1.0  # delay sensitivity for Idd (G.107 (06/2015))


@dataclass(frozen=True)
class EModelResult:
    """The terms of the E-model sum R = Ro − Is − Id − Ie,eff + A (arrays broadcast)."""

    ro: FloatArray
    is_: FloatArray
    id_: FloatArray
    ie_eff: FloatArray
    a: FloatArray
    r: FloatArray
    idte: FloatArray
    idle: FloatArray
    idd: FloatArray


@dataclass(frozen=True)
class Codec:
    """A codec's equipment impairment ``ie`` and packet-loss robustness ``bpl``.

    ``bpl`` is ``None`` where G.113 publishes no robustness value for the codec.
    """

    name: str
    ie: float
    bpl: float | None
    source: str


#: Narrowband codec impairments. Ie: ITU-T G.113 (11/2007) Appendix I, Table I.1
#: (no packet loss); Bpl: Table I.3 (random packet loss, with the stated PLC).
CODECS: dict[str, Codec] = {
    c.name: c
    for c in (
        Codec("G.711", 0.0, 4.3, "G.113 Table I.1 (Ie) / Table I.3 (Bpl, no PLC)"),
        Codec("G.711+PLC", 0.0, 25.1, "G.113 Table I.1 (Ie) / Table I.3 (Bpl, Appendix I PLC)"),
        Codec("G.726-40", 2.0, None, "G.113 Table I.1 (ADPCM 40 kbit/s)"),
        Codec("G.726-32", 7.0, None, "G.113 Table I.1 (ADPCM 32 kbit/s)"),
        Codec("G.726-24", 25.0, None, "G.113 Table I.1 (ADPCM 24 kbit/s)"),
        Codec("G.726-16", 50.0, None, "G.113 Table I.1 (ADPCM 16 kbit/s)"),
        Codec("G.728-16", 7.0, None, "G.113 Table I.1 (LD-CELP 16 kbit/s)"),
        Codec("G.728-12.8", 20.0, None, "G.113 Table I.1 (LD-CELP 12.8 kbit/s)"),
        Codec("G.729", 10.0, None, "G.113 Table I.1 (CS-ACELP 8 kbit/s)"),
        Codec("G.729A+VAD", 11.0, 19.0, "G.113 Table I.1 (Ie) / Table I.3 (Bpl)"),
        Codec("G.723.1-6.3+VAD", 15.0, 16.1, "G.113 Table I.1 (Ie) / Table I.3 (Bpl)"),
        Codec("G.723.1-5.3", 19.0, None, "G.113 Table I.1 (ACELP 5.3 kbit/s)"),
        Codec("GSM-FR", 20.0, None, "G.113 Table I.1 (RPE-LTP 13 kbit/s)"),
        Codec("GSM-HR", 23.0, None, "G.113 Table I.1 (VSELP 5.6 kbit/s)"),
        Codec("GSM-EFR", 5.0, 10.0, "G.113 Table I.1 (Ie) / Table I.3 (Bpl); = AMR 12.2"),
        Codec(
            "AMR-12.2", 5.0, 10.0, "AMR 12.2 kbit/s mode is GSM-EFR (3GPP TS 26.071); G.113 values"
        ),
    )
}


def codec(name: str) -> Codec:
    """Return the G.113 impairment values of a narrowband codec by name.

    Wideband codecs (G.722, AMR-WB, EVS) are rated on the extended wideband scale of
    ITU-T G.107.1 / G.113 Appendix IV and are not valid inputs to this narrowband model.

    >>> codec("G.729A+VAD").ie
    11.0
    """
    try:
        return CODECS[name]
    except KeyError:
        known = ", ".join(sorted(CODECS))
        raise MethodInputError(
            f"codec {name!r} is not in the G.113 table; known: {known}"
        ) from None


def _arr(x: ArrayLike, name: str) -> FloatArray:
    try:
        arr = np.asarray(x, dtype=float)
    except (TypeError, ValueError) as exc:
        raise MethodInputError(f"{name} must be numeric: {exc}") from exc
    if np.isnan(arr).any():
        raise MethodInputError(f"{name} has a missing value (NaN)")
    return arr


def _check_range(arr: FloatArray, name: str, lo: float, hi: float, rule: str) -> None:
    if arr.size and (arr.min() < lo or arr.max() > hi):
        bad = arr[(arr < lo) | (arr > hi)].ravel()[0]
        raise MethodInputError(f"{name} must be {rule}, found {bad:g}")


def _noise_and_ro(p: dict[str, FloatArray]) -> tuple[FloatArray, FloatArray]:
    """No (total noise, dBm0p) and Ro = 15 − 1.5 (SLR + No), G.107 §7.2."""
    olr = p["slr"] + p["rlr"]
    lstr = p["lstr"]
    nos = p["ps"] - p["slr"] - p["ds"] - 100.0 + 0.004 * (p["ps"] - olr - p["ds"] - 14.0) ** 2
    pre = p["pr"] + 10.0 * np.log10(1.0 + 10.0 ** ((10.0 - lstr) / 10.0))
    nor = p["rlr"] - 121.0 + pre + 0.008 * (pre - 35.0) ** 2
    nfo = p["nfor"] + p["rlr"]
    no = 10.0 * np.log10(
        10.0 ** (p["nc"] / 10.0)
        + 10.0 ** (nos / 10.0)
        + 10.0 ** (nor / 10.0)
        + 10.0 ** (nfo / 10.0)
    )
    ro = 15.0 - 1.5 * (p["slr"] + no)
    return no, ro


def _pow8(x: FloatArray) -> FloatArray:
    x2 = x * x
    x4 = x2 * x2
    return np.asarray(x4 * x4, dtype=float)


def _root8(x: FloatArray) -> FloatArray:
    return np.asarray(np.sqrt(np.sqrt(np.sqrt(x))), dtype=float)


def _ist_of_stmro(stmro: FloatArray) -> FloatArray:
    return np.asarray(
        12.0 * _root8(1.0 + _pow8((stmro - 13.0) / 6.0))
        - 28.0 * (1.0 + ((stmro + 1.0) / 19.4) ** 35) ** (1.0 / 35.0)
        - 13.0 * (1.0 + ((stmro - 3.0) / 33.0) ** 13) ** (1.0 / 13.0)
        + 29.0,
        dtype=float,
    )


def _ist(p: dict[str, FloatArray]) -> FloatArray:
    """Ist, the impairment from non-optimum sidetone, G.107 eq. (7-13/7-14)."""
    t = p["t"]
    if np.ndim(p["stmr"]) == 0 and np.ndim(p["telr"]) == 0 and np.ndim(t) > 0:
        # STMRo = −10 log(10^(−STMR/10) + e^(−T/4) 10^(−TELR/10)) equals its no-echo value
        # to the last bit once the echo term is below half an ulp: the costly formula is
        # evaluated once for those calls and per call only for the others.
        base = 10.0 ** (-p["stmr"] / 10.0)
        far = -10.0 * np.log10(base)
        out = np.full(np.shape(t), float(_ist_of_stmro(np.asarray(far))))
        # e^(−T/4)·10^(−TELR/10) < 1e−17·base  ⇔  T > t_cut (one comparison per call).
        t_cut = 4.0 * math.log(10.0 ** (-float(p["telr"]) / 10.0) / (float(base) * 1e-17))
        near = np.asarray(t) < t_cut
        if near.any():
            tn = np.asarray(t)[near]
            stmro = -10.0 * np.log10(base + np.exp(-tn / 4.0) * 10.0 ** (-p["telr"] / 10.0))
            out[near] = _ist_of_stmro(stmro)
        return out
    stmro = -10.0 * np.log10(
        10.0 ** (-p["stmr"] / 10.0) + np.exp(-t / 4.0) * 10.0 ** (-p["telr"] / 10.0)
    )
    return _ist_of_stmro(stmro)


def _is(p: dict[str, FloatArray], no: FloatArray, ro: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Is = Iolr + Ist + Iq, G.107 §7.3; returns (Is, Ist)."""
    olr = p["slr"] + p["rlr"]
    xolr = olr + 0.2 * (64.0 + no - p["rlr"])
    iolr = 20.0 * (_root8(1.0 + _pow8(xolr / 8.0)) - xolr / 8.0)
    ist = _ist(p)
    q = 37.0 - 15.0 * np.log10(p["qdu"])
    g = 1.07 + 0.258 * q + 0.0602 * q**2
    y = (ro - 100.0) / 15.0 + 46.0 / 8.4 - g / 9.0
    z = 46.0 / 30.0 - g / 40.0
    iq = 15.0 * np.log10(1.0 + 10.0**y + 10.0**z)
    return iolr + ist + iq, ist


Branch = Callable[[], npt.ArrayLike] | npt.ArrayLike


def _where(cond: npt.NDArray[np.bool_] | np.bool_ | bool, yes: Branch, no: Branch) -> FloatArray:
    """``np.where`` that evaluates only the chosen branch when the condition is a scalar."""

    def value(b: Branch) -> npt.ArrayLike:
        return b() if callable(b) else b

    if np.ndim(cond) == 0:
        return np.asarray(value(yes) if bool(cond) else value(no), dtype=np.float64)
    return np.asarray(np.where(cond, value(yes), value(no)), dtype=np.float64)


def _idte(p: dict[str, FloatArray], no: FloatArray, ist: FloatArray) -> FloatArray:
    """Talker-echo impairment Idte, G.107 §7.4, with the STMR < 9 and > 20 dB cases."""
    t = p["t"]
    roe = -1.5 * (no - p["rlr"])
    if np.ndim(t) == 0:
        bump = np.asarray(np.exp(-0.3 * t * t))
    else:
        # 6·exp(−0.3 T²) underflows to exactly 0 beyond T ≈ 48.6 ms: skip those calls.
        bump = np.zeros(np.shape(t))
        np.exp(-0.3 * t * t, out=bump, where=np.asarray(t < 49.0))
    terv = p["telr"] - 40.0 * np.log10((1.0 + t / 10.0) / (1.0 + t / 150.0)) + 6.0 * bump
    # Low sidetone masking makes echo more audible: G.107 uses TERVs = TERV + Ist/2.
    terv = _where(p["stmr"] < 9.0, lambda: terv + ist / 2.0, terv)
    d = roe - (80.0 + 2.5 * (terv - 14.0))
    idte = (d / 2.0 + np.sqrt(d * d / 4.0 + 100.0) - 1.0) * (1.0 - np.exp(-t))
    # Very high sidetone masking: Idtes = sqrt(Idte² + Ist²).
    return _where(p["stmr"] > 20.0, lambda: np.sqrt(idte**2 + ist**2), idte)


def _idle(p: dict[str, FloatArray], ro: FloatArray) -> FloatArray:
    """Listener-echo impairment Idle, G.107 §7.4."""
    rle = 10.5 * (p["wepl"] + 7.0) / np.sqrt(np.sqrt(p["tr"] + 1.0))
    return np.asarray((ro - rle) / 2.0 + np.sqrt((ro - rle) ** 2 / 4.0 + 169.0), dtype=float)


def _idd(p: dict[str, FloatArray]) -> FloatArray:
    """Absolute-delay impairment Idd, G.107 §7.4: zero up to mT, then

    Idd = 25 {(1 + X^(6 sT))^(1/(6 sT)) − 3 (1 + (X/3)^(6 sT))^(1/(6 sT)) + 2},
    X = log10(Ta/mT) / log10 2.
    """
    ta, mt, st = p["ta"], p["mt"], p["st"]
    if np.ndim(mt) == 0 and np.ndim(st) == 0 and float(st) == 1.0:
        # The default sT = 1 with a scalar mT: powers by multiplication and roots.
        out = np.zeros(np.shape(ta), dtype=float)
        above = np.asarray(ta > mt)
        if not above.any():
            return out
        x = np.log2(np.asarray(ta)[above] / mt) if np.ndim(ta) else np.log2(ta / mt)
        x3 = x * x * x
        y3 = x3 / 27.0
        term = np.cbrt(np.sqrt(1.0 + x3 * x3)) - 3.0 * np.cbrt(np.sqrt(1.0 + y3 * y3))
        if np.ndim(ta) == 0:
            return np.asarray(25.0 * (term + 2.0), dtype=float)
        out[above] = 25.0 * (term + 2.0)
        return out
    shape = np.broadcast_shapes(np.shape(ta), np.shape(mt), np.shape(st))
    result = np.zeros(shape, dtype=float)
    ta_b, mt_b, st_b = (np.broadcast_to(a, shape) for a in (ta, mt, st))
    mask = ta_b > mt_b
    if not mask.any():
        return result
    xg = np.log2(ta_b[mask] / mt_b[mask])
    e = 6.0 * st_b[mask]
    result[mask] = 25.0 * (
        (1.0 + xg**e) ** (1.0 / e) - 3.0 * (1.0 + (xg / 3.0) ** e) ** (1.0 / e) + 2.0
    )
    return result


def effective_equipment_impairment(
    ie: ArrayLike, bpl: ArrayLike, packet_loss: ArrayLike, burst_ratio: ArrayLike = 1.0
) -> FloatArray:
    """Ie,eff: the codec impairment under packet loss, ITU-T G.107 eq. (7-29).

    Ie,eff = Ie + (95 − Ie) · Ppl / (Ppl / BurstR + Bpl), with Ppl in percent.

    >>> round(float(effective_equipment_impairment(0.0, 4.3, 2.0)), 2)
    30.16
    """
    ie_a, bpl_a, ppl, br = (
        _arr(ie, "ie"),
        _arr(bpl, "bpl"),
        _arr(packet_loss, "packet_loss"),
        _arr(burst_ratio, "burst_ratio"),
    )
    _check_range(ie_a, "ie", 0.0, 95.0, "between 0 and 95 (G.107 Table 3 range of Ie)")
    _check_range(bpl_a, "bpl", 1.0, 40.0, "between 1 and 40 (G.107 Table 3 range of Bpl)")
    _check_range(ppl, "packet_loss", 0.0, 100.0, "a percentage between 0 and 100")
    _check_range(br, "burst_ratio", 1.0, np.inf, "at least 1 (1 = random loss, > 1 bursty; G.107)")
    return np.asarray(ie_a + (95.0 - ie_a) * ppl / (ppl / br + bpl_a), dtype=float)


def e_model(params: TransmissionParameters | None = None, **arrays: ArrayLike) -> EModelResult:
    """Run the full G.107 E-model and return every term of R = Ro − Is − Id − Ie,eff + A.

    ``params`` gives scalar inputs (default: G.107 Table 3); keyword arguments named like
    the fields of :class:`TransmissionParameters` override them with scalars or arrays,
    which broadcast against each other.

    >>> res = e_model()
    >>> round(float(res.ro), 2), round(float(res.r), 1)
    (94.77, 93.2)
    """
    base = params or TransmissionParameters()
    names = {f.name for f in fields(TransmissionParameters)}
    unknown = set(arrays) - names
    if unknown:
        raise MethodInputError(f"unknown E-model parameter(s): {', '.join(sorted(unknown))}")
    p: dict[str, FloatArray] = {
        n: _arr(arrays[n], n) if n in arrays else np.asarray(getattr(base, n), dtype=float)
        for n in names
    }
    for n in ("t", "tr", "ta"):
        _check_range(p[n], n, 0.0, np.inf, "a delay of 0 ms or more")
    _check_range(p["qdu"], "qdu", 1.0, np.inf, "at least 1 quantisation distortion unit")
    _check_range(p["mt"], "mt", 1e-9, np.inf, "a positive delay")
    no, ro = _noise_and_ro(p)
    is_, ist = _is(p, no, ro)
    idte = _idte(p, no, ist)
    idle = _idle(p, ro)
    idd = _idd(p)
    id_ = idte + idle + idd
    ie_eff = effective_equipment_impairment(p["ie"], p["bpl"], p["ppl"], p["burst_r"])
    r = ro - is_ - id_ - ie_eff + p["a"]
    return EModelResult(
        ro=ro, is_=is_, id_=id_, ie_eff=ie_eff, a=p["a"], r=r, idte=idte, idle=idle, idd=idd
    )


@overload
def r_factor(
    ie: float = ...,
    bpl: float = ...,
    packet_loss: float = ...,
    burst_ratio: float = ...,
    delay_ms: float = ...,
) -> float: ...
@overload
def r_factor(
    ie: ArrayLike = ...,
    bpl: ArrayLike = ...,
    packet_loss: ArrayLike = ...,
    burst_ratio: ArrayLike = ...,
    delay_ms: ArrayLike = ...,
) -> float | FloatArray: ...
def r_factor(
    ie: ArrayLike = 0.0,
    bpl: ArrayLike = 4.3,
    packet_loss: ArrayLike = 0.0,
    burst_ratio: ArrayLike = 1.0,
    delay_ms: ArrayLike = 0.0,
) -> float | FloatArray:
    """Transmission rating factor R of a voice call by the full ITU-T G.107 E-model.

    ``ie``/``bpl``: codec impairment and packet-loss robustness (G.113 Appendix I, see
    :func:`codec`); ``packet_loss`` in percent; ``burst_ratio`` ≥ 1; ``delay_ms`` the mean
    one-way mouth-to-ear delay, used as T = Ta = delay and Tr = 2 × delay. All other
    inputs are at their G.107 Table 3 defaults, so ``r_factor()`` gives R = 93.2.
    Scalars give a float, arrays broadcast and give an array.

    >>> round(r_factor(), 1)
    93.2
    >>> round(r_factor(ie=11, bpl=19, packet_loss=1.0, delay_ms=150.0), 1)
    74.3
    """
    scalar = all(np.ndim(v) == 0 for v in (ie, bpl, packet_loss, burst_ratio, delay_ms))
    arrays = np.broadcast_arrays(
        _arr(ie, "ie"),
        _arr(bpl, "bpl"),
        _arr(packet_loss, "packet_loss"),
        _arr(burst_ratio, "burst_ratio"),
        _arr(delay_ms, "delay_ms"),
    )
    _check_range(arrays[4], "delay_ms", 0.0, np.inf, "a one-way delay of 0 ms or more")
    shape = arrays[0].shape
    flat = [a.ravel() for a in arrays]
    out = np.empty(flat[0].size, dtype=float)
    # Chunks that fit in cache are several times faster than whole 10-million arrays.
    for lo in range(0, max(out.size, 1), _CHUNK):
        i, b, lo_, br, d = (a[lo : lo + _CHUNK] for a in flat)
        res = e_model(ie=i, bpl=b, ppl=lo_, burst_r=br, t=d, ta=d, tr=2.0 * d)
        out[lo : lo + _CHUNK] = res.r
    return float(out[0]) if scalar else out.reshape(shape)


_CHUNK = 1 << 16


@overload
def mos_from_r(r: float) -> float: ...
@overload
def mos_from_r(r: ArrayLike) -> float | FloatArray: ...
def mos_from_r(r: ArrayLike) -> float | FloatArray:
    """Estimated conversational MOS (MOS_CQE) from R, ITU-T G.107 Annex B eq. (B-4).

    MOS = 1 for R < 0; 1 + 0.035 R + R (R − 60)(100 − R) · 7·10⁻⁶ for 0 ≤ R ≤ 100;
    4.5 for R > 100. The cubic dips a hair below 1 (to 0.99999) for 0 < R < 6.5; the
    result is held at 1, the bottom of the MOS scale.

    >>> round(mos_from_r(93.2), 2)
    4.41
    """
    arr = _arr(r, "r")
    mos = 1.0 + 0.035 * arr + arr * (arr - 60.0) * (100.0 - arr) * 7e-6
    out = np.where(arr < 0.0, 1.0, np.where(arr > 100.0, 4.5, np.maximum(mos, 1.0)))
    return float(out) if np.ndim(r) == 0 else np.asarray(out, dtype=float)


def burst_ratio_from_markov(p: ArrayLike, q: ArrayLike) -> FloatArray:
    """BurstR of a two-state Markov loss process, ITU-T G.107 §7.5: BurstR = 1 / (p + q).

    ``p``: probability of going from "found" to "loss"; ``q``: from "loss" to "found".

    >>> float(burst_ratio_from_markov(0.01, 0.49))
    2.0
    """
    pa, qa = _arr(p, "p"), _arr(q, "q")
    _check_range(pa, "p", 0.0, 1.0, "a probability between 0 and 1")
    _check_range(qa, "q", 1e-12, 1.0, "a probability above 0 and at most 1")
    return np.asarray(1.0 / (pa + qa), dtype=float)
