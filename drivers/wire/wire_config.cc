// parse_wire_config: the link's fault spec from a test's string (see drivers/wire.h).
//
// Hand-rolled, no strtod: decimals are read as an integer and a count of fraction digits,
// so "0.05" is the double nearest 5/100 under every libc and locale, and times and rates are
// exact integers. Each field is scanned within its own [begin, end) span, so no input, however
// long or odd, is read past its terminator.
#include <array>
#include <cerrno>
#include <cstdint>
#include <cstring>

#include "drivers/wire.h"

namespace pollux::wire {

namespace {

struct Span {
    const char* begin;
    const char* end;

    bool equals(const char* word) const {
        size_t n = std::strlen(word);
        return static_cast<size_t>(end - begin) == n && std::memcmp(begin, word, n) == 0;
    }
};

// A non-negative decimal: value = mantissa / 10^scale. `rest` is what follows the digits.
struct Decimal {
    uint64_t mantissa = 0;
    int scale = 0;
    Span rest;
};

constexpr auto kPow10 = [] {
    std::array<uint64_t, 20> table{};  // 10^19 is the last power of ten in 64 bits
    uint64_t v = 1;
    for (uint64_t& entry : table) {
        entry = v;
        v *= 10;
    }
    return table;
}();
constexpr int kMaxScale = static_cast<int>(kPow10.size()) - 1;

bool is_digit(char c) { return c >= '0' && c <= '9'; }

bool take_digits(const char*& p, const char* end, Decimal& d, bool fraction) {
    const char* start = p;
    for (; p < end && is_digit(*p); ++p) {
        if (fraction && d.scale == kMaxScale) return false;
        if (__builtin_mul_overflow(d.mantissa, 10u, &d.mantissa) ||
            __builtin_add_overflow(d.mantissa, static_cast<uint64_t>(*p - '0'), &d.mantissa)) {
            return false;
        }
        if (fraction) ++d.scale;
    }
    return p != start;
}

// digits [ "." digits ], then whatever suffix; a fraction only when allowed.
bool parse_decimal(Span s, bool allow_fraction, Decimal& d) {
    const char* p = s.begin;
    if (!take_digits(p, s.end, d, false)) return false;
    if (p < s.end && *p == '.') {
        if (!allow_fraction) return false;
        ++p;
        if (!take_digits(p, s.end, d, true)) return false;
    }
    d.rest = {p, s.end};
    return true;
}

// mantissa * unit / 10^scale, truncated; false if it does not fit in 64 bits.
bool scaled(const Decimal& d, uint64_t unit, uint64_t& out) {
    unsigned __int128 v = static_cast<unsigned __int128>(d.mantissa) * unit / kPow10[d.scale];
    if (v > UINT64_MAX) return false;
    out = static_cast<uint64_t>(v);
    return true;
}

bool parse_probability(Span s, double& out) {
    Decimal d;
    if (!parse_decimal(s, true, d)) return false;
    int scale = d.scale;
    if (d.rest.equals("%")) {
        scale += 2;
    } else if (d.rest.begin != d.rest.end) {
        return false;
    }
    if (scale > kMaxScale) return false;
    // 1 is the most a probability may be: mantissa <= 10^scale, checked in integers.
    if (d.mantissa > kPow10[scale]) return false;
    out = static_cast<double>(d.mantissa) / static_cast<double>(kPow10[scale]);
    return true;
}

bool parse_time(Span s, uint64_t& out) {
    Decimal d;
    if (!parse_decimal(s, true, d)) return false;
    uint64_t unit;
    if (d.rest.begin == d.rest.end || d.rest.equals("ns")) {
        unit = 1;
    } else if (d.rest.equals("us")) {
        unit = 1'000;
    } else if (d.rest.equals("ms")) {
        unit = 1'000'000;
    } else if (d.rest.equals("s")) {
        unit = 1'000'000'000;
    } else {
        return false;
    }
    return scaled(d, unit, out);
}

bool parse_rate(Span s, uint64_t& out) {
    Decimal d;
    if (!parse_decimal(s, true, d)) return false;
    uint64_t unit;
    if (d.rest.begin == d.rest.end) {
        unit = 1;
    } else if (d.rest.equals("k") || d.rest.equals("K")) {
        unit = 1'000;
    } else if (d.rest.equals("m") || d.rest.equals("M")) {
        unit = 1'000'000;
    } else if (d.rest.equals("g") || d.rest.equals("G")) {
        unit = 1'000'000'000;
    } else {
        return false;
    }
    return scaled(d, unit, out);
}

bool parse_integer(Span s, uint64_t min, uint64_t max, uint64_t& out) {
    Decimal d;
    if (!parse_decimal(s, false, d) || d.rest.begin != d.rest.end) return false;
    if (d.mantissa < min || d.mantissa > max) return false;
    out = d.mantissa;
    return true;
}

bool apply(WireConfig& c, Span key, Span value) {
    uint64_t n = 0;
    if (key.equals("loss")) return parse_probability(value, c.loss);
    if (key.equals("reorder")) return parse_probability(value, c.reorder);
    if (key.equals("dup") || key.equals("duplicate")) return parse_probability(value, c.duplicate);
    if (key.equals("corrupt")) return parse_probability(value, c.corrupt);
    if (key.equals("delay")) return parse_time(value, c.delay_ns);
    if (key.equals("jitter")) return parse_time(value, c.jitter_ns);
    if (key.equals("rate")) return parse_rate(value, c.rate_bps);
    if (key.equals("seed")) return parse_integer(value, 0, UINT64_MAX, c.seed);
    if (key.equals("mtu")) {
        // 68: the least an IPv4 link may offer (RFC 791); the frame must still fit 16 bits.
        if (!parse_integer(value, 68, UINT16_MAX, n)) return false;
        c.mtu = static_cast<uint16_t>(n);
        return true;
    }
    if (key.equals("limit") || key.equals("queue")) {
        if (!parse_integer(value, 1, SIZE_MAX, n)) return false;
        c.queue_limit = static_cast<size_t>(n);
        return true;
    }
    if (key.equals("features")) {
        if (!parse_integer(value, 0, UINT32_MAX, n)) return false;
        c.features = static_cast<uint32_t>(n);
        return true;
    }
    return false;
}

}  // namespace

kstd::Result<WireConfig> parse_wire_config(const char* spec) {
    if (spec == nullptr || *spec == '\0') return kstd::err(EINVAL);
    WireConfig config;
    const char* p = spec;
    for (;;) {
        const char* item_end = p;
        while (*item_end != '\0' && *item_end != ',') ++item_end;
        const char* eq = p;
        while (eq < item_end && *eq != '=') ++eq;
        if (eq == p || eq == item_end) return kstd::err(EINVAL);  // no key, or no '='
        if (!apply(config, Span{p, eq}, Span{eq + 1, item_end})) return kstd::err(EINVAL);
        if (*item_end == '\0') break;
        p = item_end + 1;
    }
    return config;
}

}  // namespace pollux::wire
