// The untyped red-black tree primitives behind kstd/rbtree.h (rebalancing and walks).
//
// Invariants restored by every mutating call: (1) each node is red or black, (2) the root
// is black, (3) null leaves are black, (4) no red node has a red child, (5) all root-to-leaf
// paths carry the same number of black nodes.
//
// Locking: none here; the tree's owner serialises all calls. Everything is iterative
// with O(1) stack, because kernel stacks are small.
#include "kstd/rbtree.h"

namespace kstd {

namespace {

bool is_red(const RbNode* node) { return node != nullptr && node->red; }

// Points whatever referenced `old_child` (its parent's slot, or the root) at `new_child`.
void replace_child(RbNode* parent, RbNode* old_child, RbNode* new_child, RbRoot* root) {
    if (parent == nullptr) {
        root->node = new_child;
    } else if (parent->left == old_child) {
        parent->left = new_child;
    } else {
        parent->right = new_child;
    }
}

// A rotation keeps the in-order sequence and moves one subtree between x and its child y;
// it is the only tool that changes heights, so every fixup below is built from it.
// rotate_left: x's right child y takes x's place, x becomes y's left child and adopts
// y's old left subtree. rotate_right is the mirror image.
void rotate_left(RbNode* x, RbRoot* root) {
    RbNode* y = x->right;
    x->right = y->left;
    if (y->left != nullptr) y->left->parent = x;
    y->parent = x->parent;
    replace_child(x->parent, x, y, root);
    y->left = x;
    x->parent = y;
}

void rotate_right(RbNode* x, RbRoot* root) {
    RbNode* y = x->left;
    x->left = y->right;
    if (y->right != nullptr) y->right->parent = x;
    y->parent = x->parent;
    replace_child(x->parent, x, y, root);
    y->right = x;
    x->parent = y;
}

RbNode* leftmost(RbNode* node) {
    while (node->left != nullptr) node = node->left;
    return node;
}

RbNode* rightmost(RbNode* node) {
    while (node->right != nullptr) node = node->right;
    return node;
}

// Removing a black node left the subtree at `x` (possibly a null leaf, hence the separate
// `parent`) one black short. Push the deficit up, or absorb it with recolouring/rotations.
void erase_fixup(RbNode* x, RbNode* parent, RbRoot* root) {
    while (x != root->node && !is_red(x)) {
        // x may be null, so compare against the slot rather than x->parent. The sibling is
        // never null: before the removal it had at least one black node on its side.
        if (x == parent->left) {
            RbNode* w = parent->right;
            // NOLINTNEXTLINE(clang-analyzer-core.NullDereference): the sibling of a doubly-black node is never null (see above)
            if (w->red) {
                // Turn a red sibling into a black one so the cases below apply.
                w->red = false;
                parent->red = true;
                rotate_left(parent, root);
                w = parent->right;
            }
            if (!is_red(w->left) && !is_red(w->right)) {
                // Take one black off the sibling's side too; the deficit moves to parent.
                w->red = true;
                x = parent;
                parent = x->parent;
            } else {
                if (!is_red(w->right)) {
                    // Make the far nephew the red one so the final rotation can use it.
                    w->left->red = false;
                    w->red = true;
                    rotate_right(w, root);
                    w = parent->right;
                }
                // Rotating gives x's side an extra black ancestor; recolour so w's side
                // keeps its count. Done.
                w->red = parent->red;
                parent->red = false;
                w->right->red = false;
                rotate_left(parent, root);
                x = root->node;
                break;
            }
        } else {
            RbNode* w = parent->left;
            if (w->red) {
                w->red = false;
                parent->red = true;
                rotate_right(parent, root);
                w = parent->left;
            }
            if (!is_red(w->left) && !is_red(w->right)) {
                w->red = true;
                x = parent;
                parent = x->parent;
            } else {
                if (!is_red(w->left)) {
                    w->right->red = false;
                    w->red = true;
                    rotate_left(w, root);
                    w = parent->left;
                }
                w->red = parent->red;
                parent->red = false;
                w->left->red = false;
                rotate_right(parent, root);
                x = root->node;
                break;
            }
        }
    }
    // A red x absorbs the missing black; a root may always turn black.
    if (x != nullptr) x->red = false;
}

}  // namespace

void rb_link_node(RbNode* node, RbNode* parent, RbNode** link) {
    node->parent = parent;
    node->left = nullptr;
    node->right = nullptr;
    // Red keeps property 5 intact; only property 4 (or 2) can be broken, which
    // rb_insert_color repairs.
    node->red = true;
    node->in_tree = true;
    *link = node;
}

void rb_insert_color(RbNode* node, RbRoot* root) {
    RbNode* parent;
    while ((parent = node->parent) != nullptr && parent->red) {
        // A red parent is never the root, so the grandparent exists.
        RbNode* gparent = parent->parent;
        if (parent == gparent->left) {
            RbNode* uncle = gparent->right;
            if (is_red(uncle)) {
                // Pull the grandparent's black down to both children; the red-red
                // conflict, if any, moves two levels up.
                parent->red = false;
                uncle->red = false;
                gparent->red = true;
                node = gparent;
                continue;
            }
            if (node == parent->right) {
                // Straighten the zig-zag so one rotation at the grandparent finishes.
                rotate_left(parent, root);
                node = parent;
                parent = node->parent;
            }
            parent->red = false;
            gparent->red = true;
            rotate_right(gparent, root);
            break;
        } else {
            RbNode* uncle = gparent->left;
            if (is_red(uncle)) {
                parent->red = false;
                uncle->red = false;
                gparent->red = true;
                node = gparent;
                continue;
            }
            if (node == parent->left) {
                rotate_right(parent, root);
                node = parent;
                parent = node->parent;
            }
            parent->red = false;
            gparent->red = true;
            rotate_left(gparent, root);
            break;
        }
    }
    root->node->red = false;
}

void rb_erase(RbNode* node, RbRoot* root) {
    RbNode* child;         // what moves into the vacated position
    RbNode* child_parent;  // its parent afterwards (child may be null)
    bool removed_black;

    if (node->left == nullptr || node->right == nullptr) {
        child = node->left != nullptr ? node->left : node->right;
        child_parent = node->parent;
        removed_black = !node->red;
        replace_child(node->parent, node, child, root);
        if (child != nullptr) child->parent = child_parent;
    } else {
        // Two children: the in-order successor (no left child) takes node's place and
        // colour, so the colour actually lost is the successor's, at its old position.
        RbNode* succ = leftmost(node->right);
        removed_black = !succ->red;
        child = succ->right;
        if (succ->parent == node) {
            child_parent = succ;
        } else {
            child_parent = succ->parent;
            child_parent->left = child;
            if (child != nullptr) child->parent = child_parent;
            succ->right = node->right;
            succ->right->parent = succ;
        }
        replace_child(node->parent, node, succ, root);
        succ->parent = node->parent;
        succ->left = node->left;
        succ->left->parent = succ;
        succ->red = node->red;
    }

    if (removed_black) erase_fixup(child, child_parent, root);

    node->parent = nullptr;
    node->left = nullptr;
    node->right = nullptr;
    node->red = false;
    node->in_tree = false;
}

RbNode* rb_first(const RbRoot* root) {
    return root->node != nullptr ? leftmost(root->node) : nullptr;
}

RbNode* rb_last(const RbRoot* root) {
    return root->node != nullptr ? rightmost(root->node) : nullptr;
}

RbNode* rb_next(const RbNode* node) {
    if (!node->in_tree) return nullptr;
    if (node->right != nullptr) return leftmost(node->right);
    // Climb until we arrive from a left subtree; that ancestor is next in order.
    RbNode* parent = node->parent;
    while (parent != nullptr && node == parent->right) {
        node = parent;
        parent = node->parent;
    }
    return parent;
}

RbNode* rb_prev(const RbNode* node) {
    if (!node->in_tree) return nullptr;
    if (node->left != nullptr) return rightmost(node->left);
    RbNode* parent = node->parent;
    while (parent != nullptr && node == parent->left) {
        node = parent;
        parent = node->parent;
    }
    return parent;
}

}  // namespace kstd
