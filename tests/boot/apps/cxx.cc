// A static C++ program: std::string, std::vector and an exception thrown and caught (the
// unwinder finds the EH tables through the program headers, AT_PHDR).
#include <cstdio>
#include <stdexcept>
#include <string>
#include <vector>

static int parse(const std::string& s) {
    if (s.empty() || s.find_first_not_of("0123456789") != std::string::npos)
        throw std::invalid_argument("not a number: \"" + s + "\"");
    return std::stoi(s);
}

int main() {
    std::vector<std::string> words = {"12", "30", "x7", "0"};
    int sum = 0;
    for (const std::string& w : words) {
        try {
            sum += parse(w);
        } catch (const std::invalid_argument& e) {
            std::printf("caught: %s\n", e.what());
        }
    }
    std::vector<int> big(100000, 1);
    std::printf("c++: sum %d, vector of %zu\n", sum, big.size());
    return sum == 42 ? 0 : 1;
}
