/*
 * test_errors.c - every service error and fault of the fake maps onto its
 * status, leaves a useful last error, and does not break later calls.
 *
 * The fake picks its behaviour from the first cluster identifier
 * (`err-notfound`, `fault-500`, ...). The default client reads
 * AWS_MAX_ATTEMPTS and RS_IDC_TIMEOUT_MS once, when it is built by the
 * first call, so they are set before that call.
 */

#include "harness.h"

/* Attempts per call, and the whole-call bound in milliseconds. */
#define ATTEMPTS 2
#define TIMEOUT_MS 3000
#define TEXT(x) TEXT_(x)
#define TEXT_(x) #x

struct error_case {
    const char *id;    /* first identifier: picks the fake's behaviour */
    int status;        /* expected status */
    const char *words; /* the last error holds these (an AWS error code), or NULL */
    long requests;     /* API requests the call must make, or 0 to not check */
};

static const struct error_case cases[] = {
    /* Service errors: answered once, never retried. */
    {"err-notfound", RS_IDC_ENOTFOUND, "ClusterNotFound", 1},
    {"err-state", RS_IDC_ESTATE, "InvalidClusterState", 1},
    {"err-invalid", RS_IDC_EINVAL, "RedshiftInvalidParameter", 1},
    {"err-unsupported", RS_IDC_EUNSUPPORTED, "UnsupportedOperation", 1},
    {"err-denied", RS_IDC_EDENIED, "AccessDenied", 1},
    {"err-unknown", RS_IDC_ESERVICE, "SomethingUnexpected", 1},
    /* Transient faults: retried until AWS_MAX_ATTEMPTS runs out. */
    {"fault-throttle", RS_IDC_ETHROTTLED, "Throttling", ATTEMPTS},
    {"fault-500", RS_IDC_ESERVICE, "InternalFailure", ATTEMPTS},
    {"fault-503", RS_IDC_ESERVICE, "ServiceUnavailable", ATTEMPTS},
    {"fault-html", RS_IDC_ESERVICE, NULL, ATTEMPTS},
    /* Transient faults that clear after one failure: the retry succeeds. */
    {"fault-throttle-1", RS_IDC_OK, NULL, 2},
    {"fault-500-1", RS_IDC_OK, NULL, 2},
    {"fault-503-1", RS_IDC_OK, NULL, 2},
    /* The connection is reset. */
    {"fault-reset", RS_IDC_ENETWORK, "GetIdentityCenterAuthToken", 0},
    /* Answers with status 200 that carry no usable token. */
    {"fault-truncated", RS_IDC_EBADRESPONSE, NULL, 1},
    {"fault-notoken", RS_IDC_EBADRESPONSE, "no token", 1},
    {"fault-emptytoken", RS_IDC_EBADRESPONSE, "no token", 1},
    {"fault-noexpiry", RS_IDC_EBADRESPONSE, "no expiry", 1},
    {"fault-expired", RS_IDC_EBADRESPONSE, "not in the future", 1},
    {"fault-garbage", RS_IDC_EBADRESPONSE, NULL, 1},
};

/* A normal call right after a failure: nothing is left broken. */
static void expect_recovery(const char *after)
{
    const char *ids[] = {"my-cluster"};
    if (expect_status(ids, 1, RS_IDC_OK) != RS_IDC_OK) {
        fprintf(stderr, "  (a normal call failed right after %s)\n", after);
    }
}

static void run_case(const struct error_case *c)
{
    /* A second, normal identifier shows that only the first one matters. */
    const char *ids[] = {c->id, "my-cluster"};
    long before = fake_requests();
    double started = now_seconds();
    int got = expect_status(ids, 2, c->status);
    double took = now_seconds() - started;
    long made = fake_requests() - before;

    printf("%-18s -> %-20s %.2f s, %ld request(s)\n", c->id, rs_idc_status_str(got), took, made);
    if (c->status != RS_IDC_OK) {
        EXPECT(strstr(rs_idc_last_error(), c->words ? c->words : "") != NULL,
               "%s: last error \"%s\" should contain \"%s\"", c->id, rs_idc_last_error(),
               c->words ? c->words : "");
    }
    if (c->requests > 0) {
        EXPECT(made == c->requests, "%s: %ld request(s) expected, the fake saw %ld", c->id,
               c->requests, made);
    } else {
        EXPECT(made >= 1 && made <= ATTEMPTS, "%s: 1 to %d requests expected, the fake saw %ld",
               c->id, ATTEMPTS, made);
    }
    /* No case gets anywhere near the whole-call bound. */
    EXPECT(took < (TIMEOUT_MS / 1000.0 + 1.0) * slow_factor(), "%s: took %.2f s", c->id, took);
    expect_recovery(c->id);
}

/* The fake never answers: the call ends with RS_IDC_ETIMEOUT within its bound. */
static void hang(void)
{
    const char *ids[] = {"fault-hang"};
    double started = now_seconds();
    int got = expect_status(ids, 1, RS_IDC_ETIMEOUT);
    double took = now_seconds() - started;
    double limit = (TIMEOUT_MS / 1000.0 + 1.0) * slow_factor();
    printf("%-18s -> %-20s %.2f s\n", ids[0], rs_idc_status_str(got), took);
    EXPECT(took < limit, "fault-hang: took %.2f s, bound %.2f s", took, limit);
    /* It did wait: the whole-call bound, not some early give-up. */
    EXPECT(took > TIMEOUT_MS / 1000.0 * 0.8, "fault-hang: gave up after %.2f s already", took);
    EXPECT_LAST_ERROR("time bound");
    expect_recovery("fault-hang");
}

int main(void)
{
    /* Before the first call: the default client reads these once. */
    setenv("AWS_MAX_ATTEMPTS", TEXT(ATTEMPTS), 1);
    setenv("RS_IDC_TIMEOUT_MS", TEXT(TIMEOUT_MS), 1);

    EXPECT(fake_reset() == 0, "the fake's counters can be reset");
    expect_recovery("nothing (first call)");

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        run_case(&cases[i]);
    }
    hang();

    /* The identifiers pick the behaviour case-insensitively. */
    const char *upper[] = {"ERR-NOTFOUND"};
    expect_status(upper, 1, RS_IDC_ENOTFOUND);
    EXPECT_LAST_ERROR("ClusterNotFound");
    /* The AWS request id is in the message. */
    EXPECT_LAST_ERROR("request id");
    expect_recovery("ERR-NOTFOUND");

    /* Short-lived tokens: the expiry is what the service said. */
    const char *ttl[] = {"ttl-120"};
    int64_t exp = 0;
    if (expect_status_exp(ttl, 1, RS_IDC_OK, &exp) == RS_IDC_OK) {
        int64_t left = exp - (int64_t)time(NULL);
        EXPECT(left > 60 && left <= 121, "ttl-120: expiry in %lld s", (long long)left);
    }

    return test_summary();
}
