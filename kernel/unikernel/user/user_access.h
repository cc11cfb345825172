// Reading and writing the application's memory from a system call, after checking that the
// range is mapped with the access needed (Linux's access_ok + copy_{to,from}_user, which one
// address space and no swapping reduce to a check and a memcpy). A false or null answer is the
// caller's EFAULT.
#pragma once

#include <cstdint>
#include <cstring>

#include "user/address_space.h"

namespace pollux::user {

inline bool readable(uint64_t addr, uint64_t len) { return len == 0 || accessible(addr, len, kProtRead); }
inline bool writable(uint64_t addr, uint64_t len) { return len == 0 || accessible(addr, len, kProtWrite); }

template <typename T>
T* ptr(uint64_t v) {
    return reinterpret_cast<T*>(v);
}

template <typename T>
bool put(uint64_t addr, const T& value) {
    if (!writable(addr, sizeof(T))) return false;
    memcpy(ptr<void>(addr), &value, sizeof(T));
    return true;
}

template <typename T>
bool get(uint64_t addr, T& value) {
    if (!readable(addr, sizeof(T))) return false;
    memcpy(&value, ptr<const void>(addr), sizeof(T));
    return true;
}

}  // namespace pollux::user
