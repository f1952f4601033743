/*
 * cpp_token.cpp - get an Amazon Redshift IAM Identity Center auth token
 * from C++ with the header-only wrapper rs_idc.hpp.
 *
 *     usage: cpp_token CLUSTER_ID...
 *            cpp_token --serverless WORKGROUP...
 *            cpp_token --host HOST_NAME
 *            cpp_token --user APPLICATION_ARN ACCESS_ROLE_ARN CLUSTER_ID... < web-token
 *
 * Build (from the project's top directory, after `make lib`):
 *
 *     g++ -std=c++17 -Iinclude examples-c/cpp_token.cpp -o cpp_token \
 *         -Ltarget/release -Wl,-rpath,$PWD/target/release -lrs_idc
 *
 * or, after `make install`: g++ -std=c++17 cpp_token.cpp $(pkg-config --cflags --libs rs_idc)
 *
 * Cluster identifiers go to the process-wide default client; workgroups and
 * host names to a client handle (both read the environment: AWS_REGION,
 * the AWS credential chain, AWS_ENDPOINT_URL, RS_IDC_TIMEOUT_MS, ...). The
 * token is a secret: this program prints only its length and expiry.
 *
 * --user gets one user's token, as a multi-user server (a BI tool, a
 * gateway) does for each of its users: the user's web token (a JWT from
 * their identity provider) comes on standard input; the process's own
 * credentials sign its exchange for that user's credentials through the IAM
 * Identity Center application and the access role.
 */

#include <cstdio>
#include <ctime>
#include <string>
#include <utility>
#include <vector>

#include "rs_idc.hpp"

namespace {

int usage(const char *program)
{
    std::fprintf(stderr,
                 "usage: %s CLUSTER_ID...\n"
                 "       %s --serverless WORKGROUP...\n"
                 "       %s --host HOST_NAME\n"
                 "       %s --user APPLICATION_ARN ACCESS_ROLE_ARN CLUSTER_ID... < web-token\n",
                 program, program, program, program);
    return 2;
}

/* Overwrites a secret held in a std::string before it is released. */
void wipe(std::string &secret)
{
    volatile char *bytes = secret.data();
    for (std::size_t i = 0; i < secret.size(); i++) {
        bytes[i] = '\0';
    }
    secret.clear();
}

/* The web token on standard input, without the line end; at most
 * RS_IDC_MAX_WEB_TOKEN_LEN bytes are kept (a longer one is refused by the
 * library). */
std::string read_web_token()
{
    std::string text(RS_IDC_MAX_WEB_TOKEN_LEN + 1, '\0');
    std::size_t n = std::fread(text.data(), 1, text.size(), stdin);
    text.resize(n);
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) {
        text.pop_back();
    }
    return text;
}

/* One user's token: the handle has the per-user options; the web token is
 * wiped once the call returns. */
rs_idc::token user_token(const char *application_arn, const char *access_role_arn,
                         std::vector<std::string> ids)
{
    rs_idc::client app{{"idc_application_arn", application_arn},
                       {"access_role_arn", access_role_arn},
                       {"timeout_ms", "20000"}};
    std::string web_token = read_web_token();
    try {
        rs_idc::token token = app.get_user_token(web_token, ids);
        wipe(web_token);
        return token;
    } catch (...) {
        wipe(web_token);
        throw;
    }
}

/* Prints the token's length and expiry, never the token itself. */
void show(const rs_idc::token &token)
{
    std::time_t at = static_cast<std::time_t>(token.expires_at());
    char when[32] = "?";
    std::tm utc{};
    if (gmtime_r(&at, &utc) != nullptr) {
        std::strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &utc);
    }
    long long left = static_cast<long long>(token.expires_at()) -
                     static_cast<long long>(std::time(nullptr));
    std::printf("token: %zu bytes, expires %s (in %lld s)\n", token.size(), when, left);
}

}  // namespace

int main(int argc, char **argv)
{
    if (argc < 2) {
        return usage(argv[0]);
    }
    std::string mode = argv[1];
    try {
        if (mode == "--user") {
            if (argc < 5) {
                return usage(argv[0]);
            }
            // A multi-user server keeps one handle and calls it per user;
            // each user's credentials and tokens are cached for that user.
            show(user_token(argv[2], argv[3], std::vector<std::string>(argv + 4, argv + argc)));
        } else if (mode == "--serverless" || mode == "--host") {
            if (argc < 3 || (mode == "--host" && argc != 3)) {
                return usage(argv[0]);
            }
            // A handle made from options; here only a time bound, the rest
            // comes from the environment. A driver maps its connection
            // string onto options such as region, endpoint_url or the
            // three identity-enhanced credential parts.
            rs_idc::client client{{"timeout_ms", "20000"}};
            if (mode == "--host") {
                // CLUSTER.ID.REGION.redshift.amazonaws.com or
                // WORKGROUP.ACCOUNT.REGION.redshift-serverless.amazonaws.com
                show(client.get_token_for_host(argv[2]));
            } else {
                show(client.get_serverless_token(std::vector<std::string>(argv + 2, argv + argc)));
            }
        } else {
            // The process-wide default client: one call, nothing to set up.
            rs_idc::token token = rs_idc::get_token(std::vector<std::string>(argv + 1, argv + argc));
            show(token);
            // A driver now sends token.c_str() with token_type=SUBJECT_TOKEN.
        }
        // Each token wiped and freed itself when it went out of scope.
    } catch (const rs_idc::error &e) {
        // "RS_IDC_ENOTFOUND: ..." - never holds a token or a secret.
        std::fprintf(stderr, "error: %s\n", e.what());
        return 1;
    }
    return 0;
}
