#pragma once

#include "http_client.hpp"
#include "token_options.hpp"

namespace pam_oauth2::token {

/// --status: every kept sign-in of the profile (every one at all when no profile is named), one
/// block of text or one JSON document on standard output: issuer, account, who, until when, a
/// refresh token or not, which flow and when. Never a token; no network. Exit 0, or 3 when the store
/// cannot be listed.
int show_status(const TokenOptions& options);

/// --logout: forgets the kept sign-in of the account (--account, else the default one), or with
/// --all every account of the profile, after revoking each refresh token at the provider's
/// revocation endpoint when discovery names one (best effort: a failure is reported, the kept copy
/// is forgotten anyway). Exit 1 for a named account with nothing kept, 3 when a copy cannot be removed.
int sign_out(const TokenOptions& options, HttpClient& http);

} // namespace pam_oauth2::token
