// WirePrng: the test wire's fault dice, xoshiro256** seeded through splitmix64.
//
// Spelled out here rather than taken from <random>: the standard's distributions are
// implementation-defined, and a seed must reproduce the same losses under clang, GCC and the
// unikernel's toolchain alike. Both generators are public domain (Blackman and Vigna,
// https://prng.di.unimi.it/); no locking inside: the owner serialises calls.
#pragma once

#include <cstdint>

namespace pollux::wire {

class WirePrng {
public:
    // `stream` separates generators that share a seed (one per direction of a link).
    WirePrng(uint64_t seed, uint64_t stream) {
        uint64_t x = seed ^ (0xd1b54a32d192ed03ull * (stream + 1));
        for (uint64_t& word : s_) word = splitmix64(x);
    }

    uint64_t next() {
        uint64_t result = rotl(s_[1] * 5, 7) * 9;
        uint64_t t = s_[1] << 17;
        s_[2] ^= s_[0];
        s_[3] ^= s_[1];
        s_[1] ^= s_[2];
        s_[0] ^= s_[3];
        s_[2] ^= t;
        s_[3] = rotl(s_[3], 45);
        return result;
    }

    // True with probability p. p <= 0 draws nothing, so a clean link leaves the stream alone.
    bool chance(double p) {
        if (p <= 0) return false;
        return static_cast<double>(next() >> 11) * 0x1.0p-53 < p;
    }

    // Uniform in [0, n), by Lemire's multiply-shift: no division, bias below 2^-64 * n.
    uint64_t below(uint64_t n) { return static_cast<uint64_t>((static_cast<unsigned __int128>(next()) * n) >> 64); }

    static uint64_t splitmix64(uint64_t& x) {
        uint64_t z = (x += 0x9e3779b97f4a7c15ull);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        return z ^ (z >> 31);
    }

private:
    static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

    uint64_t s_[4];
};

}  // namespace pollux::wire
