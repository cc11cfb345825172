// Unit tests for kstd::RbTree and the raw rb_* primitives (kstd/rbtree.h).
//
// Every structural test re-checks the five red-black properties (node colours, black root,
// black null leaves, no red-red edge, equal black heights) plus parent links, in-order
// ordering and size. The tree has no lock of its own; these tests are single-threaded.
// The checker is iterative on purpose, like the tree itself, so a million-node tree
// cannot overflow the test's stack either.
#include "kstd/rbtree.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <numeric>
#include <random>
#include <set>
#include <vector>

namespace {

using kstd::RbNode;
using kstd::RbRoot;
using kstd::RbTree;

struct Item {
    int key = 0;
    int value = 0;
    RbNode by_key;
    RbNode by_value;
};

struct KeyTraits {
    using Key = int;
    static Key key_of(const Item& item) { return item.key; }
    static int compare(const Key& a, const Key& b) { return a < b ? -1 : (a > b ? 1 : 0); }
};

struct ValueTraits {
    using Key = int;
    static Key key_of(const Item& item) { return item.value; }
    static int compare(const Key& a, const Key& b) { return a < b ? -1 : (a > b ? 1 : 0); }
};

using KeyTree = RbTree<Item, &Item::by_key, KeyTraits>;
using ValueTree = RbTree<Item, &Item::by_value, ValueTraits>;

std::unique_ptr<Item[]> make_items(std::size_t n) {
    std::unique_ptr<Item[]> items(new Item[n]);
    for (std::size_t i = 0; i < n; ++i) {
        items[i].key = static_cast<int>(i);
        items[i].value = static_cast<int>(i);
    }
    return items;
}

// Checks all structural invariants of a raw tree. `key_of` maps a node to its key;
// `strict` demands strictly increasing keys (unique-key trees), otherwise non-decreasing.
template <typename KeyOf>
::testing::AssertionResult check_tree(const RbRoot* root, std::size_t expected_size, KeyOf key_of,
                                      bool strict = true) {
    const RbNode* top = root->node;
    if (top == nullptr) {
        if (expected_size != 0) return ::testing::AssertionFailure() << "empty tree, expected " << expected_size;
        return ::testing::AssertionSuccess();
    }
    if (top->parent != nullptr) return ::testing::AssertionFailure() << "root has a parent";
    if (top->red) return ::testing::AssertionFailure() << "root is red";

    std::size_t count = 0;
    int black_height = -1;
    const RbNode* prev = nullptr;
    for (const RbNode* n = kstd::rb_first(root); n != nullptr; n = kstd::rb_next(n)) {
        ++count;
        if (count > expected_size) return ::testing::AssertionFailure() << "more nodes than " << expected_size;
        if (!kstd::rb_linked(n)) return ::testing::AssertionFailure() << "node in tree not marked linked";
        if (n != top) {
            if (n->parent == nullptr) return ::testing::AssertionFailure() << "non-root node without parent";
            if (n->parent->left != n && n->parent->right != n)
                return ::testing::AssertionFailure() << "parent does not point back at child " << key_of(n);
        }
        if (n->left != nullptr && n->left->parent != n)
            return ::testing::AssertionFailure() << "left child's parent link wrong at " << key_of(n);
        if (n->right != nullptr && n->right->parent != n)
            return ::testing::AssertionFailure() << "right child's parent link wrong at " << key_of(n);
        if (n->red && ((n->left != nullptr && n->left->red) || (n->right != nullptr && n->right->red)))
            return ::testing::AssertionFailure() << "red-red edge at " << key_of(n);
        // A node with a null child ends at least one root-to-leaf path: count its blacks.
        if (n->left == nullptr || n->right == nullptr) {
            int blacks = 0;
            for (const RbNode* up = n; up != nullptr; up = up->parent) {
                if (!up->red) ++blacks;
            }
            if (black_height < 0) {
                black_height = blacks;
            } else if (blacks != black_height) {
                return ::testing::AssertionFailure()
                       << "black height " << blacks << " at " << key_of(n) << ", expected " << black_height;
            }
        }
        if (prev != nullptr) {
            auto a = key_of(prev);
            auto b = key_of(n);
            if (strict ? !(a < b) : (b < a))
                return ::testing::AssertionFailure() << "in-order keys out of order: " << a << " then " << b;
        }
        prev = n;
    }
    if (count != expected_size)
        return ::testing::AssertionFailure() << "walked " << count << " nodes, expected " << expected_size;
    if (kstd::rb_last(root) != prev) return ::testing::AssertionFailure() << "rb_last is not the last walked node";
    return ::testing::AssertionSuccess();
}

::testing::AssertionResult check(const KeyTree& tree) {
    if (tree.empty() != (tree.size() == 0)) return ::testing::AssertionFailure() << "empty() disagrees with size()";
    return check_tree(tree.root(), tree.size(),
                      [](const RbNode* n) { return kstd::container_of(const_cast<RbNode*>(n), &Item::by_key)->key; });
}

::testing::AssertionResult check_matches(const KeyTree& tree, const std::set<int>& model) {
    auto result = check(tree);
    if (!result) return result;
    if (tree.size() != model.size())
        return ::testing::AssertionFailure() << "size " << tree.size() << " vs model " << model.size();
    const Item* item = tree.first();
    for (int key : model) {
        if (item == nullptr) return ::testing::AssertionFailure() << "tree ran out before " << key;
        if (item->key != key) return ::testing::AssertionFailure() << "tree has " << item->key << ", model " << key;
        item = tree.next(*item);
    }
    if (item != nullptr) return ::testing::AssertionFailure() << "tree has extra element " << item->key;
    return ::testing::AssertionSuccess();
}

std::vector<int> forward_keys(const KeyTree& tree) {
    std::vector<int> keys;
    for (Item* it = tree.first(); it != nullptr; it = tree.next(*it)) keys.push_back(it->key);
    return keys;
}

std::vector<int> backward_keys(const KeyTree& tree) {
    std::vector<int> keys;
    for (Item* it = tree.last(); it != nullptr; it = tree.prev(*it)) keys.push_back(it->key);
    return keys;
}

TEST(RbTree, EmptyTree) {
    KeyTree tree;
    EXPECT_TRUE(tree.empty());
    EXPECT_EQ(tree.size(), 0u);
    EXPECT_EQ(tree.first(), nullptr);
    EXPECT_EQ(tree.last(), nullptr);
    EXPECT_EQ(tree.find(1), nullptr);
    EXPECT_EQ(tree.lower_bound(1), nullptr);
    EXPECT_TRUE(check(tree));
}

TEST(RbTree, SingleElementAndLinkedFlag) {
    KeyTree tree;
    Item a;
    a.key = 7;
    EXPECT_FALSE(kstd::rb_linked(&a.by_key));
    EXPECT_TRUE(tree.insert(a));
    EXPECT_TRUE(kstd::rb_linked(&a.by_key));
    EXPECT_FALSE(kstd::rb_linked(&a.by_value));
    EXPECT_EQ(tree.first(), &a);
    EXPECT_EQ(tree.last(), &a);
    EXPECT_EQ(tree.next(a), nullptr);
    EXPECT_EQ(tree.prev(a), nullptr);
    EXPECT_EQ(tree.find(7), &a);
    EXPECT_EQ(tree.lower_bound(7), &a);
    EXPECT_EQ(tree.lower_bound(-100), &a);
    EXPECT_EQ(tree.lower_bound(8), nullptr);
    EXPECT_TRUE(check(tree));

    tree.erase(a);
    EXPECT_FALSE(kstd::rb_linked(&a.by_key));
    EXPECT_EQ(a.by_key.parent, nullptr);
    EXPECT_EQ(a.by_key.left, nullptr);
    EXPECT_EQ(a.by_key.right, nullptr);
    EXPECT_EQ(kstd::rb_next(&a.by_key), nullptr);
    EXPECT_EQ(kstd::rb_prev(&a.by_key), nullptr);
    EXPECT_TRUE(tree.empty());
    EXPECT_TRUE(check(tree));

    // An erased node must be reusable.
    EXPECT_TRUE(tree.insert(a));
    EXPECT_TRUE(check(tree));
    tree.erase(a);
}

TEST(RbTree, AscendingInsert) {
    constexpr int n = 4096;
    auto items = make_items(n);
    KeyTree tree;
    for (int i = 0; i < n; ++i) {
        ASSERT_TRUE(tree.insert(items[i]));
        if ((i & (i + 1)) == 0 || i % 97 == 0) {
            ASSERT_TRUE(check(tree)) << "after inserting " << i;
        }
    }
    ASSERT_TRUE(check(tree));
    EXPECT_EQ(tree.size(), static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) EXPECT_EQ(tree.find(i), &items[i]);
    EXPECT_EQ(tree.find(n), nullptr);
    EXPECT_EQ(tree.find(-1), nullptr);
    for (int i = n - 1; i >= 0; --i) tree.erase(items[i]);
    EXPECT_TRUE(tree.empty());
}

TEST(RbTree, DescendingInsert) {
    constexpr int n = 4096;
    auto items = make_items(n);
    KeyTree tree;
    for (int i = n - 1; i >= 0; --i) {
        ASSERT_TRUE(tree.insert(items[i]));
        if (i % 101 == 0) {
            ASSERT_TRUE(check(tree)) << "after inserting " << i;
        }
    }
    ASSERT_TRUE(check(tree));
    std::vector<int> expected(n);
    std::iota(expected.begin(), expected.end(), 0);
    EXPECT_EQ(forward_keys(tree), expected);
    for (int i = 0; i < n; ++i) tree.erase(items[i]);
    EXPECT_TRUE(tree.empty());
}

TEST(RbTree, DuplicateKeyRejected) {
    auto items = make_items(16);
    KeyTree tree;
    for (int i = 0; i < 16; ++i) ASSERT_TRUE(tree.insert(items[i]));

    Item dup;
    dup.key = 5;
    EXPECT_FALSE(tree.insert(dup));
    EXPECT_FALSE(kstd::rb_linked(&dup.by_key));
    EXPECT_EQ(tree.size(), 16u);
    EXPECT_EQ(tree.find(5), &items[5]);
    EXPECT_TRUE(check(tree));

    // Re-inserting the same object is also a duplicate key and must leave it in place.
    EXPECT_FALSE(tree.insert(items[9]));
    EXPECT_EQ(tree.size(), 16u);
    EXPECT_TRUE(check(tree));

    // Once the original leaves, the duplicate gets in.
    tree.erase(items[5]);
    EXPECT_TRUE(tree.insert(dup));
    EXPECT_EQ(tree.find(5), &dup);
    EXPECT_TRUE(check(tree));
    for (Item* it = tree.first(); it != nullptr;) {
        Item* next = tree.next(*it);
        tree.erase(*it);
        it = next;
    }
    EXPECT_TRUE(tree.empty());
}

TEST(RbTree, LowerBound) {
    KeyTree tree;
    auto items = make_items(10);
    for (int i = 0; i < 10; ++i) {
        items[i].key = i * 10;  // 0, 10, ..., 90
        ASSERT_TRUE(tree.insert(items[i]));
    }
    EXPECT_EQ(tree.lower_bound(-5), &items[0]);
    EXPECT_EQ(tree.lower_bound(0), &items[0]);
    EXPECT_EQ(tree.lower_bound(1), &items[1]);
    EXPECT_EQ(tree.lower_bound(45), &items[5]);
    EXPECT_EQ(tree.lower_bound(50), &items[5]);
    EXPECT_EQ(tree.lower_bound(90), &items[9]);
    EXPECT_EQ(tree.lower_bound(91), nullptr);
    for (int i = 0; i < 10; ++i) tree.erase(items[i]);
}

TEST(RbTree, EraseRootLeafAndInner) {
    constexpr int n = 63;
    auto items = make_items(n);
    KeyTree tree;
    for (int i = 0; i < n; ++i) ASSERT_TRUE(tree.insert(items[i]));
    std::set<int> model;
    for (int i = 0; i < n; ++i) model.insert(i);
    auto key_at = [](RbNode* node) { return kstd::container_of(node, &Item::by_key)->key; };

    // Root.
    int root_key = key_at(tree.root()->node);
    tree.erase(items[root_key]);
    model.erase(root_key);
    ASSERT_TRUE(check_matches(tree, model));
    EXPECT_NE(key_at(tree.root()->node), root_key);

    // A leaf (no children).
    RbNode* leaf = kstd::rb_first(tree.root());
    while (leaf != nullptr && (leaf->left != nullptr || leaf->right != nullptr)) leaf = kstd::rb_next(leaf);
    ASSERT_NE(leaf, nullptr);
    int leaf_key = key_at(leaf);
    tree.erase(items[leaf_key]);
    model.erase(leaf_key);
    ASSERT_TRUE(check_matches(tree, model));

    // An inner node with two children that is not the root.
    RbNode* inner = tree.root()->node->left;
    ASSERT_NE(inner, nullptr);
    ASSERT_NE(inner->left, nullptr);
    ASSERT_NE(inner->right, nullptr);
    int inner_key = key_at(inner);
    tree.erase(items[inner_key]);
    model.erase(inner_key);
    ASSERT_TRUE(check_matches(tree, model));

    // A node with exactly one child, if the shape has one.
    for (RbNode* n = kstd::rb_first(tree.root()); n != nullptr; n = kstd::rb_next(n)) {
        if ((n->left == nullptr) != (n->right == nullptr)) {
            int k = key_at(n);
            tree.erase(items[k]);
            model.erase(k);
            ASSERT_TRUE(check_matches(tree, model));
            break;
        }
    }

    for (int k : std::vector<int>(model.begin(), model.end())) {
        tree.erase(items[k]);
        model.erase(k);
        ASSERT_TRUE(check_matches(tree, model));
    }
}

// Erasing each position of every small tree shape reaches all erase-fixup cases.
TEST(RbTree, EraseEveryPositionOfSmallTrees) {
    for (int n = 1; n <= 40; ++n) {
        for (int victim = 0; victim < n; ++victim) {
            for (int order = 0; order < 3; ++order) {
                auto items = make_items(n);
                KeyTree tree;
                std::mt19937 rng(static_cast<std::uint32_t>(n * 1000 + victim * 10 + order));
                std::vector<int> keys(n);
                std::iota(keys.begin(), keys.end(), 0);
                if (order == 1) std::reverse(keys.begin(), keys.end());
                if (order == 2) std::shuffle(keys.begin(), keys.end(), rng);
                for (int k : keys) ASSERT_TRUE(tree.insert(items[k]));
                std::set<int> model(keys.begin(), keys.end());
                tree.erase(items[victim]);
                model.erase(victim);
                ASSERT_TRUE(check_matches(tree, model)) << "n=" << n << " victim=" << victim << " order=" << order;
                EXPECT_FALSE(kstd::rb_linked(&items[victim].by_key));
                for (int k : model) tree.erase(items[k]);
            }
        }
    }
}

TEST(RbTree, IterateForwardAndBackward) {
    constexpr int n = 1000;
    auto items = make_items(n);
    std::vector<int> order(n);
    std::iota(order.begin(), order.end(), 0);
    std::mt19937 rng(12345);
    std::shuffle(order.begin(), order.end(), rng);

    KeyTree tree;
    for (int k : order) ASSERT_TRUE(tree.insert(items[k]));
    ASSERT_TRUE(check(tree));

    std::vector<int> ascending(n);
    std::iota(ascending.begin(), ascending.end(), 0);
    std::vector<int> descending(ascending.rbegin(), ascending.rend());
    EXPECT_EQ(forward_keys(tree), ascending);
    EXPECT_EQ(backward_keys(tree), descending);
    EXPECT_EQ(tree.first(), &items[0]);
    EXPECT_EQ(tree.last(), &items[n - 1]);
    for (int k : order) tree.erase(items[k]);
}

TEST(RbTree, EraseWhileIterating) {
    constexpr int n = 2000;
    auto items = make_items(n);
    std::vector<int> order(n);
    std::iota(order.begin(), order.end(), 0);
    std::mt19937 rng(777);
    std::shuffle(order.begin(), order.end(), rng);
    KeyTree tree;
    for (int k : order) ASSERT_TRUE(tree.insert(items[k]));

    // Drop every odd key in one forward pass; rebalancing must not disturb the walk.
    std::set<int> model;
    int visited = 0;
    for (Item* it = tree.first(); it != nullptr;) {
        Item* next = tree.next(*it);
        EXPECT_EQ(it->key, visited);
        ++visited;
        if (it->key % 2 == 1) {
            tree.erase(*it);
        } else {
            model.insert(it->key);
        }
        it = next;
    }
    EXPECT_EQ(visited, n);
    ASSERT_TRUE(check_matches(tree, model));

    // Then empty it walking backwards.
    for (Item* it = tree.last(); it != nullptr;) {
        Item* prev = tree.prev(*it);
        tree.erase(*it);
        it = prev;
    }
    EXPECT_TRUE(tree.empty());
    ASSERT_TRUE(check(tree));
}

// One object in two trees at once through two members, ordered differently.
TEST(RbTree, TwoMembersTwoTrees) {
    constexpr int n = 500;
    auto items = make_items(n);
    KeyTree by_key;
    ValueTree by_value;
    for (int i = 0; i < n; ++i) {
        items[i].value = n - 1 - i;
        ASSERT_TRUE(by_key.insert(items[i]));
        ASSERT_TRUE(by_value.insert(items[i]));
    }
    EXPECT_EQ(by_key.first(), &items[0]);
    EXPECT_EQ(by_value.first(), &items[n - 1]);
    EXPECT_EQ(by_value.find(0), &items[n - 1]);
    for (int i = 0; i < n; i += 2) by_key.erase(items[i]);
    EXPECT_EQ(by_value.size(), static_cast<std::size_t>(n));
    EXPECT_EQ(by_key.size(), static_cast<std::size_t>(n / 2));
    EXPECT_TRUE(check(by_key));
    EXPECT_TRUE(check_tree(by_value.root(), by_value.size(), [](const RbNode* node) {
        return kstd::container_of(const_cast<RbNode*>(node), &Item::by_value)->value;
    }));
    EXPECT_FALSE(kstd::rb_linked(&items[0].by_key));
    EXPECT_TRUE(kstd::rb_linked(&items[0].by_value));
    for (int i = 1; i < n; i += 2) by_key.erase(items[i]);
    for (int i = 0; i < n; ++i) by_value.erase(items[i]);
    EXPECT_TRUE(by_key.empty());
    EXPECT_TRUE(by_value.empty());
}

// The raw interface lets a caller keep equal keys (new ones go right of old ones, as for
// FIFO-ordered timers); the wrapper's uniqueness is a policy, not a limit of the core.
TEST(RbTree, RawPrimitivesWithEqualKeys) {
    constexpr int n = 3000;
    auto items = make_items(n);
    RbRoot root;
    auto key_at = [](const RbNode* node) { return kstd::container_of(const_cast<RbNode*>(node), &Item::by_key)->key; };
    for (int i = 0; i < n; ++i) {
        items[i].key = i % 7;
        items[i].value = i;
        RbNode* parent = nullptr;
        RbNode** link = &root.node;
        while (*link != nullptr) {
            parent = *link;
            link = items[i].key < key_at(parent) ? &parent->left : &parent->right;
        }
        kstd::rb_link_node(&items[i].by_key, parent, link);
        kstd::rb_insert_color(&items[i].by_key, &root);
    }
    ASSERT_TRUE(check_tree(&root, n, key_at, /*strict=*/false));
    // Equal keys keep insertion order.
    int last_key = -1;
    int last_value = -1;
    for (RbNode* node = kstd::rb_first(&root); node != nullptr; node = kstd::rb_next(node)) {
        Item* item = kstd::container_of(node, &Item::by_key);
        if (item->key == last_key) {
            EXPECT_GT(item->value, last_value);
        }
        last_key = item->key;
        last_value = item->value;
    }
    std::size_t left = n;
    for (int i = 0; i < n; i += 3) {
        kstd::rb_erase(&items[i].by_key, &root);
        --left;
    }
    ASSERT_TRUE(check_tree(&root, left, key_at, /*strict=*/false));
    while (root.node != nullptr) kstd::rb_erase(root.node, &root);
}

TEST(RbTree, RandomisedAgainstStdSet) {
    constexpr int key_space = 20000;
    constexpr int ops = 200000;
    auto items = make_items(key_space);
    KeyTree tree;
    std::set<int> model;
    std::mt19937 rng(0x5eed);
    std::uniform_int_distribution<int> key_dist(0, key_space - 1);
    std::uniform_int_distribution<int> op_dist(0, 99);

    for (int op = 1; op <= ops; ++op) {
        int key = key_dist(rng);
        int what = op_dist(rng);
        if (what < 40) {
            bool inserted = tree.insert(items[key]);
            ASSERT_EQ(inserted, model.insert(key).second) << "insert " << key << " at op " << op;
        } else if (what < 70) {
            Item* found = tree.find(key);
            bool present = model.erase(key) == 1;
            ASSERT_EQ(found != nullptr, present) << "erase " << key << " at op " << op;
            if (found != nullptr) {
                ASSERT_EQ(found, &items[key]);
                tree.erase(*found);
                ASSERT_FALSE(kstd::rb_linked(&found->by_key));
            }
        } else if (what < 85) {
            Item* found = tree.find(key);
            bool present = model.count(key) == 1;
            ASSERT_EQ(found != nullptr, present) << "find " << key << " at op " << op;
            if (found != nullptr) {
                ASSERT_EQ(found->key, key);
            }
        } else {
            Item* found = tree.lower_bound(key);
            auto expected = model.lower_bound(key);
            if (expected == model.end()) {
                ASSERT_EQ(found, nullptr) << "lower_bound " << key << " at op " << op;
            } else {
                ASSERT_NE(found, nullptr) << "lower_bound " << key << " at op " << op;
                ASSERT_EQ(found->key, *expected) << "lower_bound " << key << " at op " << op;
            }
        }
        ASSERT_EQ(tree.size(), model.size());
        if (op % 1000 == 0) {
            ASSERT_TRUE(check_matches(tree, model)) << "after op " << op;
        }
    }
    // Sanity: the mix really did grow a sizeable tree rather than hovering near empty.
    EXPECT_GT(model.size(), 5000u);

    for (Item* it = tree.first(); it != nullptr;) {
        Item* next = tree.next(*it);
        tree.erase(*it);
        it = next;
    }
    EXPECT_TRUE(tree.empty());
}

// A quadratic implementation (or a degenerate, list-shaped tree) would not finish this in
// any reasonable time; no timing is asserted, finishing is the test.
TEST(RbTree, MillionElements) {
    constexpr int n = 1000000;
    auto items = make_items(n);
    KeyTree tree;
    // Ascending is the input that turns an unbalanced BST into a list.
    for (int i = 0; i < n; ++i) ASSERT_TRUE(tree.insert(items[i]));
    ASSERT_EQ(tree.size(), static_cast<std::size_t>(n));
    ASSERT_TRUE(check(tree));

    // Height is bounded by 2*log2(n+1) ~ 40: measure the deepest leaf iteratively.
    int max_depth = 0;
    for (const RbNode* node = kstd::rb_first(tree.root()); node != nullptr; node = kstd::rb_next(node)) {
        if (node->left != nullptr || node->right != nullptr) continue;
        int depth = 0;
        for (const RbNode* up = node; up != nullptr; up = up->parent) ++depth;
        max_depth = std::max(max_depth, depth);
    }
    EXPECT_LE(max_depth, 40);

    std::vector<int> order(n);
    std::iota(order.begin(), order.end(), 0);
    std::mt19937 rng(42);
    std::shuffle(order.begin(), order.end(), rng);
    for (int i = 0; i < n; ++i) {
        ASSERT_EQ(tree.find(order[i]), &items[order[i]]);
        tree.erase(items[order[i]]);
        if (i == n / 2) {
            ASSERT_TRUE(check(tree));
        }
    }
    EXPECT_TRUE(tree.empty());
    EXPECT_EQ(tree.first(), nullptr);
}

}  // namespace
