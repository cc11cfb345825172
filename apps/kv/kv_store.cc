#include "kv_store.h"

namespace kv {

KvStore::Entry* KvStore::find(std::string_view key, int64_t now_ms) {
    auto it = map_.find(key);
    if (it == map_.end()) return nullptr;
    if (it->second.expires_at_ms != 0 && it->second.expires_at_ms <= now_ms) {
        map_.erase(it);
        return nullptr;
    }
    return &it->second;
}

KvStore::Entry& KvStore::set(std::string_view key, std::string_view value, int64_t expires_at_ms) {
    auto it = map_.find(key);
    if (it == map_.end()) it = map_.emplace(std::string(key), Entry{}).first;
    it->second.value.assign(value);
    set_expiry(key, it->second, expires_at_ms);
    return it->second;
}

void KvStore::set_expiry(std::string_view key, Entry& entry, int64_t expires_at_ms) {
    if (expires_at_ms != 0 && expires_at_ms != entry.expires_at_ms) deadlines_.emplace(expires_at_ms, std::string(key));
    entry.expires_at_ms = expires_at_ms;
}

bool KvStore::erase(std::string_view key) {
    auto it = map_.find(key);
    if (it == map_.end()) return false;
    map_.erase(it);
    return true;
}

void KvStore::clear() {
    map_.clear();
    deadlines_ = {};
}

size_t KvStore::expiring() const {
    size_t n = 0;
    for (const auto& [key, entry] : map_) n += entry.expires_at_ms != 0;
    return n;
}

size_t KvStore::expire_due(int64_t now_ms, size_t budget) {
    size_t removed = 0;
    while (removed < budget && !deadlines_.empty() && deadlines_.top().first <= now_ms) {
        auto it = map_.find(deadlines_.top().second);
        if (it != map_.end() && it->second.expires_at_ms == deadlines_.top().first) {
            map_.erase(it);
            ++removed;
        }
        deadlines_.pop();
    }
    return removed;
}

}  // namespace kv
