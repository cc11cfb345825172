// The keyspace: string keys to string values with an optional expiry time. Time is passed in
// (monotonic milliseconds), so the store is pure and the tests control the clock.
//
// Expiry is lazy (an expired key is removed when found) and active: a min-heap of
// (deadline, key) lets expire_due() drop keys nobody asks for. A heap entry whose key was
// since deleted or given another deadline is stale and skipped when it comes up.
#pragma once

#include <stdint.h>

#include <functional>
#include <queue>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace kv {

class KvStore {
public:
    struct Entry {
        std::string value;
        int64_t expires_at_ms = 0;  // 0: never
    };

    // The live entry for key, or nullptr (an expired one is removed on the way).
    Entry* find(std::string_view key, int64_t now_ms);
    // Inserts or overwrites; expires_at_ms 0 = no expiry.
    Entry& set(std::string_view key, std::string_view value, int64_t expires_at_ms);
    // Sets (or clears, with 0) the deadline of an existing entry.
    void set_expiry(std::string_view key, Entry& entry, int64_t expires_at_ms);
    bool erase(std::string_view key);
    void clear();
    size_t size() const { return map_.size(); }
    size_t expiring() const;
    // Removes up to `budget` keys whose deadline has passed.
    size_t expire_due(int64_t now_ms, size_t budget);

private:
    struct Hash {
        using is_transparent = void;
        size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
    };
    using Deadline = std::pair<int64_t, std::string>;

    std::unordered_map<std::string, Entry, Hash, std::equal_to<>> map_;
    std::priority_queue<Deadline, std::vector<Deadline>, std::greater<>> deadlines_;
};

}  // namespace kv
