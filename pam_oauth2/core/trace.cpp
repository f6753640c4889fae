#include "trace.hpp"

namespace pam_oauth2 {

void Trace::add(const std::string& step, const nlohmann::json& detail)
{
    nlohmann::json entry{{"step", step}};
    entry.update(detail);
    steps_.push_back(std::move(entry));
}

} // namespace pam_oauth2
