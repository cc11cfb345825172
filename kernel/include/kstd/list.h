// kstd::ListNode: Linux's list_head, an intrusive circular doubly linked list.
//
// Hot-path objects (wait-queue entries, epitems) embed their links, so linking never
// allocates. The functions keep Linux's names and semantics (list_add inserts after the
// head, list_add_tail before it, list_del_init leaves the node self-linked so that
// "is it on a list?" is node.empty()), because eventpoll's ordering rules are written in them.
#pragma once

#include <cstddef>

namespace kstd {

struct ListNode {
    ListNode* next = this;
    ListNode* prev = this;

    ListNode() = default;
    ListNode(const ListNode&) = delete;
    ListNode& operator=(const ListNode&) = delete;

    void init() { next = prev = this; }
    bool empty() const { return next == this; }
    bool linked() const { return next != this; }
};

inline void list_insert_between(ListNode* node, ListNode* prev, ListNode* next) {
    next->prev = node;
    node->next = next;
    node->prev = prev;
    prev->next = node;
}

inline void list_add(ListNode* node, ListNode* head) { list_insert_between(node, head, head->next); }
inline void list_add_tail(ListNode* node, ListNode* head) { list_insert_between(node, head->prev, head); }

inline void list_del_init(ListNode* node) {
    node->next->prev = node->prev;
    node->prev->next = node->next;
    node->init();
}

// Moves every node of `list` to the front of `head`, leaving `list` empty.
inline void list_splice_init(ListNode* list, ListNode* head) {
    if (list->empty()) return;
    ListNode* first = list->next;
    ListNode* last = list->prev;
    ListNode* at = head->next;
    first->prev = head;
    head->next = first;
    last->next = at;
    at->prev = last;
    list->init();
}

// Moves every node of `list` to the back of `head`, leaving `list` empty.
inline void list_splice_tail_init(ListNode* list, ListNode* head) {
    if (list->empty()) return;
    ListNode* first = list->next;
    ListNode* last = list->prev;
    ListNode* at = head->prev;
    first->prev = at;
    at->next = first;
    last->next = head;
    head->prev = last;
    list->init();
}

template <typename T, typename M>
std::ptrdiff_t member_offset(M T::*member) {
    // offsetof() takes no member pointer and a null-based trick trips UBSan; measuring the
    // member inside raw storage (never constructed, only addressed) is exact and clean.
    alignas(T) static unsigned char probe[sizeof(T)];
    T* object = reinterpret_cast<T*>(probe);
    return reinterpret_cast<unsigned char*>(&(object->*member)) - probe;
}

template <typename T, typename M>
T* container_of(M* ptr, M T::*member) {
    return reinterpret_cast<T*>(reinterpret_cast<char*>(ptr) - member_offset(member));
}

// Iterates over a list whose nodes are `Member` of T; safe against removing the current node.
template <typename T, ListNode T::*Member>
class ListView {
public:
    explicit ListView(ListNode& head) : head_(head) {}
    class Iterator {
    public:
        Iterator(ListNode* node) : node_(node), next_(node->next) {}  // NOLINT(google-explicit-constructor)
        T& operator*() const { return *container_of(node_, Member); }
        Iterator& operator++() {
            node_ = next_;
            next_ = node_->next;
            return *this;
        }
        bool operator!=(const Iterator& other) const { return node_ != other.node_; }

    private:
        ListNode* node_;
        ListNode* next_;
    };
    Iterator begin() const { return Iterator(head_.next); }
    Iterator end() const { return Iterator(&head_); }

private:
    ListNode& head_;
};

}  // namespace kstd
