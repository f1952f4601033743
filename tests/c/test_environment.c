/*
 * test_environment.c - how the process-wide default client reads the
 * environment: bad library settings, no region, no credentials, and
 * credentials of different identities.
 *
 * The order of the steps matters, because three things are built once and
 * then kept for the life of the process (a forked child builds its own):
 *
 * 1. The library settings (RS_IDC_TIMEOUT_MS, RS_IDC_CONNECT_TIMEOUT_MS)
 *    are read by the first call whose settings are valid, so the bad
 *    values come first. A bad value is not remembered: fixing it and
 *    calling again works.
 * 2. The SDK configuration (region, endpoint, attempts) is loaded by the
 *    first call that finds a region, so "no region" comes next. A missing
 *    region is not remembered either.
 * 3. Credentials are resolved by the SDK's default chain on each call
 *    until one resolution succeeds; failures are not cached, so "no
 *    credentials" can come after step 2 and be fixed afterwards. But the
 *    first credentials resolved successfully are then kept by the SDK's
 *    identity cache (credentials without an expiry stay for 15 minutes),
 *    whether or not the service accepted them. Found by experiment: after
 *    the plain keys resolved (and were refused with UnsupportedOperation),
 *    putting the enhanced keys into the environment still sent the plain
 *    keys; after the enhanced keys succeeded, even unsetting every key
 *    still gave tokens.
 *    So only one identity can be tried per process: each refused identity
 *    (plain keys, expired keys, a key without its session token) is tried
 *    in its own forked child, where the library builds fresh SDK clients
 *    and so a fresh credential cache, and the parent tries the enhanced
 *    keys last.
 *
 * Steps 1 to 3 fail before any request is sent: the fake's request
 * counter must not move.
 */

#include "harness.h"

static const char *cluster[] = {"my-cluster"};

/* Copies of the enhanced credentials and region that `run` put in place. */
static char *saved_region;
static char *saved_key_id;
static char *saved_secret;
static char *saved_session;

static char *save(const char *name)
{
    const char *value = getenv(name);
    EXPECT(value != NULL && value[0] != '\0', "%s is set by the fake's run wrapper", name);
    return strdup(value ? value : "");
}

static void unset_credentials(void)
{
    unsetenv("AWS_ACCESS_KEY_ID");
    unsetenv("AWS_SECRET_ACCESS_KEY");
    unsetenv("AWS_SESSION_TOKEN");
}

/* Puts the credentials RS_IDC_TEST_<who>_* in the AWS variables. */
static void use_credentials(const char *who, int with_session)
{
    static const char *const parts[][2] = {
        {"ACCESS_KEY_ID", "AWS_ACCESS_KEY_ID"},
        {"SECRET_ACCESS_KEY", "AWS_SECRET_ACCESS_KEY"},
        {"SESSION_TOKEN", "AWS_SESSION_TOKEN"},
    };
    unset_credentials();
    for (int i = 0; i < (with_session ? 3 : 2); i++) {
        char name[96];
        snprintf(name, sizeof name, "RS_IDC_TEST_%s_%s", who, parts[i][0]);
        const char *value = getenv(name);
        EXPECT(value != NULL && value[0] != '\0', "%s is set by the fake's run wrapper", name);
        if (value != NULL) {
            setenv(parts[i][1], value, 1);
        }
    }
}

/* Step 1: library settings. Nothing is built or sent. */
static void bad_settings(void)
{
    static const char *const bad[] = {"abc", "0", "-5", "", "1.5", "3600001"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        setenv("RS_IDC_TIMEOUT_MS", bad[i], 1);
        if (expect_status(cluster, 1, RS_IDC_EINVAL) == RS_IDC_EINVAL) {
            EXPECT_LAST_ERROR("RS_IDC_TIMEOUT_MS");
        }
    }
    unsetenv("RS_IDC_TIMEOUT_MS");
    setenv("RS_IDC_CONNECT_TIMEOUT_MS", "soon", 1);
    expect_status(cluster, 1, RS_IDC_EINVAL);
    EXPECT_LAST_ERROR("RS_IDC_CONNECT_TIMEOUT_MS");
    unsetenv("RS_IDC_CONNECT_TIMEOUT_MS");
    /* Valid settings from here on; they are read by the next call. */
    setenv("RS_IDC_TIMEOUT_MS", "10000", 1);
}

/* Step 2: no region anywhere (the config file is /dev/null, IMDS is off). */
static void no_region(void)
{
    unsetenv("AWS_REGION");
    unsetenv("AWS_DEFAULT_REGION");
    for (int attempt = 0; attempt < 2; attempt++) {
        expect_status(cluster, 1, RS_IDC_ENOREGION);
        EXPECT_LAST_ERROR("AWS_REGION");
    }
}

/* Step 3: a region again, but no credentials in the environment. */
static void no_credentials(void)
{
    setenv("AWS_REGION", saved_region, 1);
    unset_credentials();
    for (int attempt = 0; attempt < 2; attempt++) {
        expect_status(cluster, 1, RS_IDC_ENOCREDS);
        EXPECT_LAST_ERROR("no AWS credentials");
    }
}

/* Step 4: what a child with other credentials must see. */
struct identity {
    const char *who;   /* RS_IDC_TEST_<who>_* credentials */
    int with_session;  /* also set AWS_SESSION_TOKEN */
    int want;          /* expected status */
    const char *words; /* the last error holds these (the AWS error code) */
};

static void try_identity(void *arg)
{
    const struct identity *id = arg;
    use_credentials(id->who, id->with_session);
    long before = fake_requests();
    if (expect_status(cluster, 1, id->want) == id->want && id->want != RS_IDC_OK) {
        EXPECT_LAST_ERROR(id->words);
    }
    EXPECT(fake_requests() > before, "%s: the request reached the fake", id->who);
}

/*
 * Tries one identity in a forked child, where the library builds fresh SDK
 * clients and so a fresh credential cache.
 */
static void identity_in_child(const struct identity *id)
{
    char what[96];
    snprintf(what, sizeof what, "child with the %s keys%s", id->who,
             id->with_session ? "" : " (no session token)");
    struct child c = start_child(try_identity, (void *)id);
    EXPECT(finish_child(c, 30.0 * slow_factor(), what), "%s: %s", what,
           rs_idc_status_str(id->want));
}

int main(void)
{
    saved_region = save("AWS_REGION");
    saved_key_id = save("AWS_ACCESS_KEY_ID");
    saved_secret = save("AWS_SECRET_ACCESS_KEY");
    saved_session = save("AWS_SESSION_TOKEN");

    long before = fake_requests();
    EXPECT(before >= 0, "the fake's stats are readable at 127.0.0.1:$RS_IDC_FAKE_PORT");

    bad_settings();
    no_region();
    no_credentials();

    long after = fake_requests();
    EXPECT(after == before, "no request before credentials were found (requests %ld -> %ld)",
           before, after);

    /* Credentials valid for signing, but without an Identity Center identity. */
    static const struct identity plain = {"PLAIN", 0, RS_IDC_EUNSUPPORTED, "UnsupportedOperation"};
    /* Credentials that have expired. */
    static const struct identity expired = {"EXPIRED", 0, RS_IDC_EDENIED, "ExpiredToken"};
    /* Enhanced keys without their session token: an unknown identity. */
    static const struct identity no_session = {"IDC", 0, RS_IDC_EDENIED, "InvalidClientTokenId"};
    /* The second enhanced identity gets tokens. */
    static const struct identity second = {"IDC2", 1, RS_IDC_OK, NULL};
    identity_in_child(&plain);
    identity_in_child(&expired);
    identity_in_child(&no_session);

    /*
     * Finally, in this process, the enhanced keys: tokens. That this works
     * after the failures above shows that neither the missing region nor
     * the missing credentials were remembered.
     */
    setenv("AWS_ACCESS_KEY_ID", saved_key_id, 1);
    setenv("AWS_SECRET_ACCESS_KEY", saved_secret, 1);
    setenv("AWS_SESSION_TOKEN", saved_session, 1);
    long before_ok = fake_requests();
    expect_status(cluster, 1, RS_IDC_OK);
    EXPECT(fake_requests() > before_ok, "the first successful call reached the fake");
    identity_in_child(&second);
    expect_status(cluster, 1, RS_IDC_OK);

    free(saved_region);
    free(saved_key_id);
    free(saved_secret);
    free(saved_session);
    return test_summary();
}
