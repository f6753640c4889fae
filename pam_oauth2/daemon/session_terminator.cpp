#include "session_terminator.hpp"

#include "config_file.hpp"

#include <libpq-fe.h>
#include <sys/stat.h>

#include <cstdio>
#include <memory>

namespace pam_oauth2 {

const char* const terminate_statement = "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                                        " WHERE pid = $1::integer AND usename = $2::text"
                                        " AND abs(extract(epoch FROM backend_start) - $3::float8) < 2";

namespace {

struct ConnectionCloser {
    void operator()(PGconn* connection) const noexcept { PQfinish(connection); }
};
struct ResultClearer {
    void operator()(PGresult* result) const noexcept { PQclear(result); }
};

// libpq's message, first line only (they end with a newline and may go on with a hint).
std::string first_line(const char* message)
{
    std::string text = message == nullptr ? "" : message;
    const auto end = text.find('\n');
    return end == std::string::npos ? text : text.substr(0, end);
}

// The connection string first, then what the daemon insists on: later keywords win in libpq, so a
// file cannot lift the bounds.
std::unique_ptr<PGconn, ConnectionCloser> connect(const SecureString& conninfo)
{
    const std::string timeout = std::to_string(PostgresTerminator::connect_timeout_seconds);
    const std::string options = "-c statement_timeout=" + std::to_string(PostgresTerminator::statement_timeout_ms);
    const char* const keys[] = {"dbname", "connect_timeout", "options", "application_name", nullptr};
    const char* const values[] = {conninfo.c_str(), timeout.c_str(), options.c_str(), "pam_oauth2d", nullptr};
    return std::unique_ptr<PGconn, ConnectionCloser>(PQconnectdbParams(keys, values, 1));
}

} // namespace

Termination PostgresTerminator::end(const TrackedSession& session)
{
    const auto connection = connect(conninfo_);
    if (!connection || PQstatus(connection.get()) != CONNECTION_OK) {
        return {Termination::Failed, "cannot connect to PostgreSQL: " +
                                         first_line(connection ? PQerrorMessage(connection.get()) : "out of memory")};
    }
    const std::string pid = std::to_string(session.pid);
    char start[64];
    static_cast<void>(std::snprintf(start, sizeof start, "%.3f", session.start.wall_seconds));
    const char* const parameters[] = {pid.c_str(), session.user.c_str(), start};
    const std::unique_ptr<PGresult, ResultClearer> result(
        PQexecParams(connection.get(), terminate_statement, 3, nullptr, parameters, nullptr, nullptr, 0));
    if (!result || PQresultStatus(result.get()) != PGRES_TUPLES_OK) {
        return {Termination::Failed,
                "pg_terminate_backend as " + std::string(PQuser(connection.get())) + ": " +
                    first_line(result ? PQresultErrorMessage(result.get()) : PQerrorMessage(connection.get()))};
    }
    if (PQntuples(result.get()) == 0) {
        return {Termination::NotFound, "no backend with pid " + pid + ", that user and that start time"};
    }
    if (std::string(PQgetvalue(result.get(), 0, 0)) != "t") {
        return {Termination::Failed, "pg_terminate_backend(" + pid + ") returned false"};
    }
    return {Termination::Ended, ""};
}

Fallible<SecureString> read_conninfo_file(const std::string& path, uid_t owner)
{
    auto read = read_trusted_file(path, TrustRule{owner, true, "conninfo file"});
    if (auto* problem = std::get_if<FileProblem>(&read)) {
        return Failure{problem->message};
    }
    const auto& file = std::get<ConfigFileText>(read);
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0 || st.st_ino != file.identity.inode || st.st_dev != file.identity.device) {
        return Failure{path + ": changed while it was read"};
    }
    if ((st.st_mode & (S_IRGRP | S_IROTH)) != 0) {
        return Failure{path + ": must not be readable by group or others (chmod 0400): it may hold a password"};
    }
    std::string_view text = file.text;
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) {
        text.remove_suffix(1);
    }
    if (text.empty() || text.find('\n') != std::string_view::npos) {
        return Failure{path + ": must hold one libpq connection string on one line"};
    }
    return SecureString(text);
}

} // namespace pam_oauth2
