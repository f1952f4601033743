/*
 * test_inputs.c - argument checking of rs_idc_get_token and the small
 * functions around it.
 *
 * Every bad argument must give RS_IDC_EINVAL with a message that names the
 * argument or ids[i] and the rule, set *out to NULL, leave *exp alone, and
 * cause no network traffic: the fake's request counter must not move.
 * Identifier strings are read with a bound of 65 bytes; two cases prove it
 * (a 1 MiB string, and 65 bytes without a NUL right before a guard page).
 */

#include "harness.h"

#include <limits.h>
#include <sys/mman.h>

/* One bad call: the status, the contract and the words of the message. */
static void expect_invalid(const char *file, int line, const char **ids, size_t n,
                           const char *words)
{
    h_expect_status_exp(file, line, ids, n, RS_IDC_EINVAL, NULL);
    h_expect_contains(file, line, "last error", rs_idc_last_error(), words);
}

#define EXPECT_INVALID(ids, n, words) expect_invalid(__FILE__, __LINE__, (ids), (n), (words))

/* A single bad identifier at position 0. */
#define EXPECT_INVALID_ID(id, words)                \
    do {                                            \
        const char *one_[] = {(id)};                \
        EXPECT_INVALID(one_, 1, "ids[0] " words);   \
    } while (0)

static void null_pointers(void)
{
    const char *ids[] = {"my-cluster", NULL};
    int64_t exp = H_EXP_SENTINEL;
    static char sentinel[] = "sentinel";
    char *out = sentinel;

    /* NULL out: nothing to set, but *exp must stay as it was. */
    EXPECT_STATUS(rs_idc_get_token(ids, 1, NULL, &exp), RS_IDC_EINVAL);
    EXPECT_LAST_ERROR("out is NULL");
    CHECK(exp == H_EXP_SENTINEL);
    EXPECT_STATUS(rs_idc_get_token(ids, 1, NULL, NULL), RS_IDC_EINVAL);
    EXPECT_LAST_ERROR("out is NULL");

    /* NULL ids (with and without exp). */
    EXPECT_INVALID(NULL, 1, "ids is NULL");
    EXPECT_STATUS(rs_idc_get_token(NULL, 1, &out, NULL), RS_IDC_EINVAL);
    CHECK(out == NULL);
    EXPECT_LAST_ERROR("ids is NULL");

    /* A NULL element names its position. */
    EXPECT_INVALID(ids, 2, "ids[1] is NULL");
    const char *first_null[] = {NULL, "my-cluster"};
    EXPECT_INVALID(first_null, 2, "ids[0] is NULL");
}

static void counts(void)
{
    const char *ids[RS_IDC_MAX_IDENTIFIERS + 1];
    for (size_t i = 0; i < RS_IDC_MAX_IDENTIFIERS + 1; i++) {
        ids[i] = "my-cluster";
    }
    EXPECT_INVALID(ids, 0, "got 0");
    EXPECT_INVALID(ids, RS_IDC_MAX_IDENTIFIERS + 1, "got 21");
    EXPECT_INVALID(ids, 1000, "got 1000");
    EXPECT_INVALID(ids, SIZE_MAX, "must be from 1 to 20");
}

/* The rule about characters names the offset of the first bad byte. */
#define BAD_BYTE "has a byte other than an ASCII letter, digit or hyphen at offset "

static void bad_identifiers(void)
{
    char longest_plus_one[RS_IDC_MAX_CLUSTER_ID_LEN + 2];
    memset(longest_plus_one, 'a', RS_IDC_MAX_CLUSTER_ID_LEN + 1);
    longest_plus_one[RS_IDC_MAX_CLUSTER_ID_LEN + 1] = '\0';

    EXPECT_INVALID_ID("", "is empty");
    EXPECT_INVALID_ID(longest_plus_one, "is longer than 63");
    EXPECT_INVALID_ID("1cluster", "must start with a letter");
    EXPECT_INVALID_ID("-cluster", "must start with a letter");
    EXPECT_INVALID_ID("cluster-", "must not end with a hyphen");
    EXPECT_INVALID_ID("a-", "must not end with a hyphen");
    EXPECT_INVALID_ID("my--cluster", "must not contain two hyphens in a row");
    EXPECT_INVALID_ID("my_cluster", BAD_BYTE "2");
    EXPECT_INVALID_ID("my cluster", BAD_BYTE "2");
    EXPECT_INVALID_ID("my.cluster", BAD_BYTE "2");
    EXPECT_INVALID_ID("../etc", BAD_BYTE "0");
    EXPECT_INVALID_ID("cluster\n", BAD_BYTE "7");
    EXPECT_INVALID_ID("a%2Fb", BAD_BYTE "1");
    EXPECT_INVALID_ID("clust\xc3\xa9r", BAD_BYTE "5");        /* UTF-8 e-acute */
    EXPECT_INVALID_ID("clu\xffster", BAD_BYTE "3");           /* not UTF-8 at all */
    EXPECT_INVALID_ID("\xe2\x80\x8b" "abc", BAD_BYTE "0");    /* zero-width space */

    /* The message names the first bad position, not just position 0. */
    const char *second_bad[] = {"good-one", "bad_one", "also bad"};
    EXPECT_INVALID(second_bad, 3, "ids[1] ");
    const char *last_bad[RS_IDC_MAX_IDENTIFIERS];
    for (size_t i = 0; i < RS_IDC_MAX_IDENTIFIERS; i++) {
        last_bad[i] = "fine";
    }
    last_bad[RS_IDC_MAX_IDENTIFIERS - 1] = "";
    EXPECT_INVALID(last_bad, RS_IDC_MAX_IDENTIFIERS, "ids[19] is empty");
}

/* A 1 MiB string: rejected as too long without the rest being read. */
static void huge_identifier(void)
{
    size_t size = (size_t)1 << 20;
    char *huge = malloc(size);
    if (!CHECK(huge != NULL)) {
        return;
    }
    memset(huge, 'a', size - 1);
    huge[size - 1] = '\0';
    const char *ids[] = {huge};
    double started = now_seconds();
    EXPECT_INVALID(ids, 1, "ids[0] is longer than 63");
    EXPECT(now_seconds() - started < 1.0 * slow_factor(), "a 1 MiB identifier is rejected at once");
    free(huge);
}

/*
 * 65 'a' bytes with no NUL at the very end of a readable page, followed by
 * a PROT_NONE guard page: a reader that scans past 65 bytes faults. Also a
 * short bad identifier whose NUL is the page's last byte.
 */
static void bounded_read(void)
{
    long page = sysconf(_SC_PAGESIZE);
    if (!CHECK(page > 0)) {
        return;
    }
    size_t page_size = (size_t)page;
    char *map = mmap(NULL, 2 * page_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                     -1, 0);
    if (!CHECK(map != MAP_FAILED)) {
        return;
    }
    CHECK(mprotect(map + page_size, page_size, PROT_NONE) == 0);
    char *guard = map + page_size;

    char *edge = guard - 65;
    memset(map, 'x', page_size);
    memset(edge, 'a', 65);
    const char *ids[] = {edge};
    EXPECT_INVALID(ids, 1, "ids[0] is longer than 63");

    char *tail = guard - 4;
    memcpy(tail, "ab_", 4); /* the NUL is the last readable byte */
    const char *tail_ids[] = {tail};
    EXPECT_INVALID(tail_ids, 1, "ids[0] " BAD_BYTE "2");

    munmap(map, 2 * page_size);
}

static void status_names(void)
{
    static const struct {
        int status;
        const char *name;
    } names[] = {
        {RS_IDC_OK, "RS_IDC_OK"},
        {RS_IDC_EINVAL, "RS_IDC_EINVAL"},
        {RS_IDC_ENOCREDS, "RS_IDC_ENOCREDS"},
        {RS_IDC_ENOREGION, "RS_IDC_ENOREGION"},
        {RS_IDC_EUNSUPPORTED, "RS_IDC_EUNSUPPORTED"},
        {RS_IDC_ENOTFOUND, "RS_IDC_ENOTFOUND"},
        {RS_IDC_ESTATE, "RS_IDC_ESTATE"},
        {RS_IDC_EDENIED, "RS_IDC_EDENIED"},
        {RS_IDC_ETHROTTLED, "RS_IDC_ETHROTTLED"},
        {RS_IDC_ETIMEOUT, "RS_IDC_ETIMEOUT"},
        {RS_IDC_ENETWORK, "RS_IDC_ENETWORK"},
        {RS_IDC_ESERVICE, "RS_IDC_ESERVICE"},
        {RS_IDC_EBADRESPONSE, "RS_IDC_EBADRESPONSE"},
        {RS_IDC_EINTERNAL, "RS_IDC_EINTERNAL"},
        {RS_IDC_EIDENTITY, "RS_IDC_EIDENTITY"},
        {RS_IDC_EAGAIN, "RS_IDC_EAGAIN"},
    };
    /* The numbers are fixed forever. */
    CHECK(RS_IDC_OK == 0 && RS_IDC_EINVAL == -1 && RS_IDC_ENOCREDS == -2);
    CHECK(RS_IDC_ENOREGION == -3 && RS_IDC_EUNSUPPORTED == -4 && RS_IDC_ENOTFOUND == -5);
    CHECK(RS_IDC_ESTATE == -6 && RS_IDC_EDENIED == -7 && RS_IDC_ETHROTTLED == -8);
    CHECK(RS_IDC_ETIMEOUT == -9 && RS_IDC_ENETWORK == -10 && RS_IDC_ESERVICE == -11);
    CHECK(RS_IDC_EBADRESPONSE == -12 && RS_IDC_EINTERNAL == -13);
    CHECK(RS_IDC_EIDENTITY == -14 && RS_IDC_EAGAIN == -15);
    CHECK(RS_IDC_MAX_IDENTIFIERS == 20 && RS_IDC_MAX_CLUSTER_ID_LEN == 63);

    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        const char *got = rs_idc_status_str(names[i].status);
        EXPECT(got != NULL && strcmp(got, names[i].name) == 0, "status %d is named %s, got %s",
               names[i].status, names[i].name, got ? got : "(null)");
    }
    const int unknown[] = {1, 2, -16, -100, 1000, INT_MIN, INT_MAX};
    for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
        const char *got = rs_idc_status_str(unknown[i]);
        EXPECT(got != NULL && strcmp(got, "RS_IDC_UNKNOWN") == 0,
               "status %d is named RS_IDC_UNKNOWN, got %s", unknown[i], got ? got : "(null)");
    }
}

static void version(void)
{
    const char *v = rs_idc_version();
    CHECK(v != NULL && v[0] != '\0');
    /* "MAJOR.MINOR.PATCH" at least starts with a digit and has a dot. */
    CHECK(v != NULL && v[0] >= '0' && v[0] <= '9' && strchr(v, '.') != NULL);
    CHECK(rs_idc_version() == v);
}

/* Valid inputs reach the fake: upper case, the longest id, 20 ids, exp NULL. */
static void valid_inputs(void)
{
    const char *upper[] = {"MY-CLUSTER"};
    expect_status(upper, 1, RS_IDC_OK);
    const char *mixed[] = {"My-Cluster-1", "b2"};
    expect_status(mixed, 2, RS_IDC_OK);

    char longest[RS_IDC_MAX_CLUSTER_ID_LEN + 1];
    memset(longest, 'z', RS_IDC_MAX_CLUSTER_ID_LEN);
    longest[RS_IDC_MAX_CLUSTER_ID_LEN] = '\0';
    const char *longest_ids[] = {longest};
    expect_status(longest_ids, 1, RS_IDC_OK);

    const char *one_char[] = {"a"};
    expect_status(one_char, 1, RS_IDC_OK);

    static char names[RS_IDC_MAX_IDENTIFIERS][24];
    const char *twenty[RS_IDC_MAX_IDENTIFIERS];
    for (int i = 0; i < RS_IDC_MAX_IDENTIFIERS; i++) {
        snprintf(names[i], sizeof names[i], "cluster-%d", i);
        twenty[i] = names[i];
    }
    expect_status(twenty, RS_IDC_MAX_IDENTIFIERS, RS_IDC_OK);
    const char *twenty_same[RS_IDC_MAX_IDENTIFIERS];
    for (int i = 0; i < RS_IDC_MAX_IDENTIFIERS; i++) {
        twenty_same[i] = i % 2 ? "dup" : "DUP";
    }
    expect_status(twenty_same, RS_IDC_MAX_IDENTIFIERS, RS_IDC_OK);

    /* exp may be NULL. */
    char *out = NULL;
    const char *ids[] = {"my-cluster"};
    EXPECT_STATUS(rs_idc_get_token(ids, 1, &out, NULL), RS_IDC_OK);
    CHECK(out != NULL && out[0] != '\0');
    rs_idc_free_token(out);
}

/* Both ways of releasing a token; valgrind checks that nothing leaks. */
static void freeing(void)
{
    rs_idc_free_token(NULL);
    CHECK(1); /* reached: freeing NULL is harmless */

    const char *ids[] = {"my-cluster"};
    char *out = NULL;
    int64_t exp = 0;
    EXPECT_STATUS(rs_idc_get_token(ids, 1, &out, &exp), RS_IDC_OK);
    CHECK(out != NULL && strlen(out) > 0);
    free(out); /* the token comes from the C allocator, so free() is valid */
}

int main(void)
{
    /* A thread that never failed has an empty last error. */
    CHECK(rs_idc_last_error() != NULL && rs_idc_last_error()[0] == '\0');

    long before = fake_requests();
    EXPECT(before >= 0, "the fake's stats are readable at 127.0.0.1:$RS_IDC_FAKE_PORT");

    null_pointers();
    counts();
    bad_identifiers();
    huge_identifier();
    bounded_read();

    long after_bad = fake_requests();
    EXPECT(after_bad == before, "bad arguments cause no request (requests %ld -> %ld)", before,
           after_bad);

    status_names();
    version();
    valid_inputs();
    freeing();

    /* The counter does move for valid calls, so the check above means something. */
    long after_good = fake_requests();
    EXPECT(after_good > after_bad, "valid calls reach the fake (requests %ld -> %ld)", after_bad,
           after_good);

    return test_summary();
}
