// kstd::RbNode / kstd::RbTree: an intrusive red-black tree in the shape of Linux's rbtree.
//
// Objects embed an RbNode, so inserting never allocates and an object can sit in several
// trees at once through several members. As in Linux, the untyped primitives leave the
// descent to the caller (rb_link_node + rb_insert_color), which lets a caller keyed in an
// unusual way (ranges, timers with tie-breaks) search without a comparator callback;
// RbTree<T, Member, Traits> wraps that for the common "unique key" case.
//
// Invariants (hold between calls; every primitive restores them before returning):
//   1. every node is red or black;
//   2. the root is black;
//   3. every leaf (the null child pointers) counts as black;
//   4. a red node has no red child;
//   5. every path from a node down to its leaves passes the same number of black nodes.
// Together these keep the height <= 2*log2(n+1), so all operations are O(log n). Every
// operation here is iterative: kernel stacks are small, so nothing recurses.
//
// Locking: none inside. The owner of the tree serialises every call, including the
// read-only walks (rb_next etc.), since an erase elsewhere rotates nodes under a walker.
#pragma once

#include <cstddef>

#include "kstd/list.h"  // container_of

namespace kstd {

struct RbNode {
    RbNode* parent = nullptr;
    RbNode* left = nullptr;
    RbNode* right = nullptr;
    bool red = false;
    // A root also has parent == nullptr, so membership needs its own bit; rb_erase clears it
    // so "is this object still queued?" stays answerable after removal.
    bool in_tree = false;

    RbNode() = default;
    // Copying a linked node would leave the tree pointing at the original; forbid it, as
    // ListNode does.
    RbNode(const RbNode&) = delete;
    RbNode& operator=(const RbNode&) = delete;
};

struct RbRoot {
    RbNode* node = nullptr;
};

// Links `node` as a fresh red leaf at *link (a null child slot of `parent`, or &root->node
// with parent == nullptr). The tree is not balanced again until rb_insert_color.
void rb_link_node(RbNode* node, RbNode* parent, RbNode** link);
// Restores the invariants after rb_link_node.
void rb_insert_color(RbNode* node, RbRoot* root);
// Removes a linked node and leaves it unlinked (rb_linked() false, all links cleared).
void rb_erase(RbNode* node, RbRoot* root);

RbNode* rb_first(const RbRoot* root);
RbNode* rb_last(const RbRoot* root);
// In-order neighbours; nullptr at either end and for a node that is not in a tree.
RbNode* rb_next(const RbNode* node);
RbNode* rb_prev(const RbNode* node);

inline bool rb_linked(const RbNode* node) { return node->in_tree; }

// Typed ordered set with unique keys. Traits provides:
//   using Key = ...;
//   static Key key_of(const T&);
//   static int compare(const Key&, const Key&);   // <0, 0, >0
// An item must not be inserted twice or erased from a tree it is not in; the tree does not
// own items, so an item must outlive its membership.
template <typename T, RbNode T::*Member, typename Traits>
class RbTree {
public:
    using Key = typename Traits::Key;

    RbTree() = default;
    // A copy would share nodes with the original, and the first erase would corrupt both.
    RbTree(const RbTree&) = delete;
    RbTree& operator=(const RbTree&) = delete;

    T* find(const Key& key) const {
        RbNode* node = root_.node;
        while (node != nullptr) {
            int c = Traits::compare(key, Traits::key_of(*item_of(node)));
            if (c == 0) return item_of(node);
            node = c < 0 ? node->left : node->right;
        }
        return nullptr;
    }

    // First element whose key is >= key, or nullptr.
    T* lower_bound(const Key& key) const {
        RbNode* node = root_.node;
        RbNode* best = nullptr;
        while (node != nullptr) {
            if (Traits::compare(Traits::key_of(*item_of(node)), key) >= 0) {
                best = node;
                node = node->left;
            } else {
                node = node->right;
            }
        }
        return best != nullptr ? item_of(best) : nullptr;
    }

    // Returns false and changes nothing if an element with an equal key is already present.
    bool insert(T& item) {
        const Key key = Traits::key_of(item);
        RbNode* parent = nullptr;
        RbNode** link = &root_.node;
        while (*link != nullptr) {
            parent = *link;
            int c = Traits::compare(key, Traits::key_of(*item_of(parent)));
            if (c == 0) return false;
            link = c < 0 ? &parent->left : &parent->right;
        }
        RbNode* node = &(item.*Member);
        rb_link_node(node, parent, link);
        rb_insert_color(node, &root_);
        ++size_;
        return true;
    }

    void erase(T& item) {
        rb_erase(&(item.*Member), &root_);
        --size_;
    }

    T* first() const { return item_or_null(rb_first(&root_)); }
    T* last() const { return item_or_null(rb_last(&root_)); }
    T* next(const T& item) const { return item_or_null(rb_next(&(item.*Member))); }
    T* prev(const T& item) const { return item_or_null(rb_prev(&(item.*Member))); }

    std::size_t size() const { return size_; }
    bool empty() const { return root_.node == nullptr; }

    // For callers that need the raw primitives (and for invariant checks in tests).
    const RbRoot* root() const { return &root_; }

private:
    static T* item_of(RbNode* node) { return container_of(node, Member); }
    static T* item_or_null(RbNode* node) { return node != nullptr ? item_of(node) : nullptr; }

    RbRoot root_;
    std::size_t size_ = 0;
};

}  // namespace kstd
