// An OCI linux.seccomp section compiled to the BPF program the kernel runs, with libseccomp,
// the way crun 1.8.1 compiles it in libcrun_generate_seccomp: a filter made with
// seccomp_init(default action) and no attribute changed, each architecture resolved by its
// lower-case name without "SCMP_ARCH_" and added, each rule's names added one by one with
// seccomp_rule_add (libseccomp's own rewriting, such as i386's socketcall), rules whose action
// is the default one skipped, names libseccomp does not know skipped (or refused, as crun's
// run.oci.seccomp_fail_unknown_syscall does), conditions on one argument given twice added as
// one rule each. berth hands the program to crun as run.oci.seccomp_bpf_data, so crun installs
// it without compiling it at every start; it is the same program crun would have made.
//
// compileSeccomp(section, failUnknown) -> Promise<{ bpf: Buffer, unknown: string[] }>: the
// section is read on the calling thread, compiled on libuv's threadpool. Rejects with crun's
// words for what crun refuses.
#include <errno.h>
#include <pthread.h>
#include <seccomp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <ctype.h>

#include <node_api.h>

int get_string_arg(napi_env env, napi_value v, char **out, int nullable);

typedef struct {
  uint32_t index;
  uint64_t value, value_two;
  char *op;
} sc_arg;

typedef struct {
  char *action;
  int errno_present;
  uint32_t errno_ret;
  char **names;
  size_t nnames;
  sc_arg *args;
  size_t nargs;
} sc_rule;

typedef struct {
  char *default_action;
  int default_errno_present;
  uint32_t default_errno;
  char **archs;
  size_t narchs;
  sc_rule *rules;
  size_t nrules;
  int fail_unknown;
  // results
  char err[512];
  unsigned char *bpf;
  size_t bpf_len;
  const char **unknown;
  size_t nunknown;
  napi_async_work work;
  napi_deferred deferred;
} sc_job;

static void free_strings(char **s, size_t n) {
  if (!s) return;
  for (size_t i = 0; i < n; i++) free(s[i]);
  free(s);
}

static void free_job(sc_job *j) {
  free(j->default_action);
  free_strings(j->archs, j->narchs);
  for (size_t i = 0; i < j->nrules; i++) {
    sc_rule *r = &j->rules[i];
    free(r->action);
    free_strings(r->names, r->nnames);
    for (size_t k = 0; k < r->nargs; k++) free(r->args[k].op);
    free(r->args);
  }
  free(j->rules);
  free(j->bpf);
  free(j->unknown);
  free(j);
}

/* ---- reading the section (calling thread) ------------------------------------------------ */

// The property `name` of obj; *v NULL when absent, null or undefined. -1 on an N-API failure.
static int get_prop(napi_env env, napi_value obj, const char *name, napi_value *v) {
  napi_valuetype t;
  *v = NULL;
  if (napi_get_named_property(env, obj, name, v) != napi_ok || napi_typeof(env, *v, &t) != napi_ok) return -1;
  if (t == napi_undefined || t == napi_null) *v = NULL;
  return 0;
}

static int type_error(napi_env env, const char *what) {
  char msg[128];
  snprintf(msg, sizeof msg, "compileSeccomp: %s", what);
  napi_throw_type_error(env, NULL, msg);
  return -1;
}

// A JSON integer in [0, max] (a number, or a bigint for values above 2^53).
static int get_uint(napi_env env, napi_value v, uint64_t max, uint64_t *out, const char *what) {
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok) return -1;
  if (t == napi_bigint) {
    bool lossless;
    if (napi_get_value_bigint_uint64(env, v, out, &lossless) != napi_ok || !lossless || *out > max) return type_error(env, what);
    return 0;
  }
  double d;
  if (t != napi_number || napi_get_value_double(env, v, &d) != napi_ok || d < 0 || d != (double)(uint64_t)d || d >= 18446744073709551616.0 ||
      (uint64_t)d > max)
    return type_error(env, what);
  *out = (uint64_t)d;
  return 0;
}

static int get_strings(napi_env env, napi_value arr, char ***out, size_t *n, const char *what) {
  bool is_array;
  uint32_t len;
  *out = NULL;
  *n = 0;
  if (!arr) return 0;
  if (napi_is_array(env, arr, &is_array) != napi_ok || !is_array) return type_error(env, what);
  if (napi_get_array_length(env, arr, &len) != napi_ok) return -1;
  if (!(*out = calloc(len ? len : 1, sizeof(char *)))) return type_error(env, "out of memory");
  for (uint32_t i = 0; i < len; i++) {
    napi_value e;
    if (napi_get_element(env, arr, i, &e) != napi_ok || get_string_arg(env, e, &(*out)[i], 0) < 0) return -1;
    *n = i + 1;
  }
  return 0;
}

// The optional integer property `name` in [0, max]: 1 when present, 0 when absent, -1 on error.
static int get_opt_uint(napi_env env, napi_value o, const char *name, uint64_t max, uint64_t *out) {
  napi_value v;
  char what[64];
  if (get_prop(env, o, name, &v) < 0) return -1;
  if (!v) return 0;
  snprintf(what, sizeof what, "%s is not a uint%d", name, max == UINT32_MAX ? 32 : 64);
  return get_uint(env, v, max, out, what) < 0 ? -1 : 1;
}

static int get_required_string(napi_env env, napi_value o, const char *name, char **out) {
  napi_value v;
  char what[64];
  if (get_prop(env, o, name, &v) < 0) return -1;
  snprintf(what, sizeof what, "%s is missing", name);
  return v ? get_string_arg(env, v, out, 0) : type_error(env, what);
}

// The list property `name` (absent: none), each element read by `read` into calloc'd items
// of `size` bytes; *n counts those begun, for free_job.
static int get_list(napi_env env, napi_value o, const char *name, size_t size, void **items, size_t *n,
                    int (*read)(napi_env, napi_value, void *)) {
  napi_value arr;
  bool is_array;
  uint32_t len;
  char what[64];
  if (get_prop(env, o, name, &arr) < 0) return -1;
  if (!arr) return 0;
  snprintf(what, sizeof what, "%s is not a list", name);
  if (napi_is_array(env, arr, &is_array) != napi_ok || !is_array) return type_error(env, what);
  if (napi_get_array_length(env, arr, &len) != napi_ok) return -1;
  if (!len) return 0;
  if (!(*items = calloc(len, size))) return type_error(env, "out of memory");
  for (uint32_t i = 0; i < len; i++) {
    napi_value e;
    if (napi_get_element(env, arr, i, &e) != napi_ok) return -1;
    *n = i + 1;
    if (read(env, e, (char *)*items + i * size) < 0) return -1;
  }
  return 0;
}

static int read_arg(napi_env env, napi_value o, void *item) {
  sc_arg *a = item;
  uint64_t index = 0;
  if (get_opt_uint(env, o, "index", UINT32_MAX, &index) < 0 || get_opt_uint(env, o, "value", UINT64_MAX, &a->value) < 0 ||
      get_opt_uint(env, o, "valueTwo", UINT64_MAX, &a->value_two) < 0)
    return -1;
  a->index = (uint32_t)index;
  return get_required_string(env, o, "op", &a->op);
}

static int read_rule(napi_env env, napi_value o, void *item) {
  sc_rule *r = item;
  napi_value names;
  uint64_t x = 0;
  if (get_required_string(env, o, "action", &r->action) < 0 || (r->errno_present = get_opt_uint(env, o, "errnoRet", UINT32_MAX, &x)) < 0) return -1;
  r->errno_ret = (uint32_t)x;
  if (get_prop(env, o, "names", &names) < 0 || get_strings(env, names, &r->names, &r->nnames, "names is not a list") < 0) return -1;
  return get_list(env, o, "args", sizeof(sc_arg), (void **)&r->args, &r->nargs, read_arg);
}

static int read_section(napi_env env, napi_value o, sc_job *j) {
  napi_value archs;
  uint64_t x = 0;
  if (get_required_string(env, o, "defaultAction", &j->default_action) < 0 ||
      (j->default_errno_present = get_opt_uint(env, o, "defaultErrnoRet", UINT32_MAX, &x)) < 0)
    return -1;
  j->default_errno = (uint32_t)x;
  if (get_prop(env, o, "architectures", &archs) < 0 || get_strings(env, archs, &j->archs, &j->narchs, "architectures is not a list") < 0) return -1;
  return get_list(env, o, "syscalls", sizeof(sc_rule), (void **)&j->rules, &j->nrules, read_rule);
}

/* ---- compiling (threadpool) ---------------------------------------------------------------- */

// crun's names for actions and operators (get_seccomp_action, get_seccomp_operator).
static int action_of(const char *name, uint32_t errno_ret, uint32_t *out) {
  static const struct { const char *name; uint32_t action; } plain[] = {
      {"ALLOW", SCMP_ACT_ALLOW}, {"KILL", SCMP_ACT_KILL}, {"LOG", SCMP_ACT_LOG}, {"TRAP", SCMP_ACT_TRAP},
      {"KILL_PROCESS", SCMP_ACT_KILL_PROCESS}, {"KILL_THREAD", SCMP_ACT_KILL_THREAD}, {"NOTIFY", SCMP_ACT_NOTIFY},
  };
  if (strncmp(name, "SCMP_ACT_", 9)) return -1;
  name += 9;
  if (!strcmp(name, "ERRNO")) { *out = SCMP_ACT_ERRNO(errno_ret); return 0; }
  if (!strcmp(name, "TRACE")) { *out = SCMP_ACT_TRACE(errno_ret); return 0; }
  for (size_t i = 0; i < sizeof plain / sizeof plain[0]; i++)
    if (!strcmp(name, plain[i].name)) { *out = plain[i].action; return 0; }
  return -1;
}

static int operator_of(const char *name, enum scmp_compare *out) {
  static const struct { const char *name; enum scmp_compare op; } ops[] = {
      {"SCMP_CMP_NE", SCMP_CMP_NE}, {"SCMP_CMP_LT", SCMP_CMP_LT}, {"SCMP_CMP_LE", SCMP_CMP_LE}, {"SCMP_CMP_EQ", SCMP_CMP_EQ},
      {"SCMP_CMP_GE", SCMP_CMP_GE}, {"SCMP_CMP_GT", SCMP_CMP_GT}, {"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ},
  };
  for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
    if (!strcmp(name, ops[i].name)) { *out = ops[i].op; return 0; }
  return -1;
}

static int supports_errno(const char *action) { return !strcmp(action, "SCMP_ACT_ERRNO") || !strcmp(action, "SCMP_ACT_TRACE"); }

#define FAIL(...) do { snprintf(j->err, sizeof j->err, __VA_ARGS__); return -1; } while (0)

static int add_arch(sc_job *j, scmp_filter_ctx ctx, const char *arch) {
  char lower[32];
  if (!strncmp(arch, "SCMP_ARCH_", 10)) arch += 10;
  size_t n = strnlen(arch, sizeof lower - 1);
  for (size_t i = 0; i < n; i++) lower[i] = (char)tolower((unsigned char)arch[i]);
  lower[n] = 0;
  uint32_t token = seccomp_arch_resolve_name(lower);
  if (!token) FAIL("seccomp unknown architecture %s", arch);
  int ret = seccomp_arch_add(ctx, token);
  if (ret < 0 && ret != -EEXIST) FAIL("seccomp adding architecture: %s", strerror(-ret));
  return 0;
}

// One name of a rule whose args are given: crun's two loops, conditions on an argument given
// twice each becoming a rule of their own.
static int add_with_args(sc_job *j, scmp_filter_ctx ctx, size_t i, uint32_t action, int nr) {
  sc_rule *r = &j->rules[i];
  struct scmp_arg_cmp cmp[6];
  uint32_t count[6] = {0};
  int repeated = 0;
  size_t k;
  for (k = 0; k < r->nargs && k < 6; k++) {
    uint32_t index = r->args[k].index;
    if (index >= 6) FAIL("invalid seccomp index %zu", i);
    if (++count[index] > 1) { repeated = 1; break; }
  }
  for (k = 0; k < r->nargs && k < 6; k++) {
    enum scmp_compare op;
    if (operator_of(r->args[k].op, &op) < 0) FAIL("seccomp get operator `%s`", r->args[k].op);
    cmp[k] = (struct scmp_arg_cmp){.arg = r->args[k].index, .op = op, .datum_a = r->args[k].value, .datum_b = r->args[k].value_two};
  }
  int ret;
  if (!repeated) {
    if ((ret = seccomp_rule_add_array(ctx, action, nr, (unsigned int)k, cmp)) < 0) FAIL("seccomp_rule_add_array: %s", strerror(-ret));
  } else {
    for (size_t a = 0; a < k; a++)
      if ((ret = seccomp_rule_add_array(ctx, action, nr, 1, &cmp[a])) < 0) FAIL("seccomp_rule_add_array: %s", strerror(-ret));
  }
  return 0;
}

static int add_rules(sc_job *j, scmp_filter_ctx ctx, uint32_t default_action) {
  for (size_t i = 0; i < j->nrules; i++) {
    sc_rule *r = &j->rules[i];
    uint32_t errno_ret = EPERM, action;
    if (r->errno_present) {
      if (!supports_errno(r->action)) FAIL("errno value specified for action `%s`", r->action);
      errno_ret = r->errno_ret;
    }
    if (action_of(r->action, errno_ret, &action) < 0) FAIL("invalid seccomp action `%s`", r->action);
    if (action == default_action) continue;
    for (size_t n = 0; n < r->nnames; n++) {
      int nr = seccomp_syscall_resolve_name(r->names[n]);
      if (nr == __NR_SCMP_ERROR) {
        if (j->fail_unknown) FAIL("invalid seccomp syscall `%s`", r->names[n]);
        j->unknown[j->nunknown++] = r->names[n];
        continue;
      }
      if (r->nargs == 0) {
        int ret = seccomp_rule_add(ctx, action, nr, 0);
        if (ret < 0) FAIL("seccomp_rule_add `%s`: %s", r->names[n], strerror(-ret));
      } else if (add_with_args(j, ctx, i, action, nr) < 0) {
        return -1;
      }
    }
  }
  return 0;
}

// The program as seccomp_export_bpf writes it (libseccomp 2.5 has no export to memory).
static int export_bpf(sc_job *j, scmp_filter_ctx ctx) {
  int fd = memfd_create("berth-seccomp", MFD_CLOEXEC);
  if (fd < 0) FAIL("memfd_create: %s", strerror(errno));
  int ret = seccomp_export_bpf(ctx, fd);
  struct stat st;
  if (ret < 0) snprintf(j->err, sizeof j->err, "seccomp_export_bpf: %s", strerror(-ret));
  else if (fstat(fd, &st) < 0 || !(j->bpf = malloc(st.st_size ? (size_t)st.st_size : 1)) ||
           pread(fd, j->bpf, (size_t)st.st_size, 0) != st.st_size)
    snprintf(j->err, sizeof j->err, "reading the exported filter: %s", strerror(errno));
  else j->bpf_len = (size_t)st.st_size;
  close(fd);
  return j->err[0] ? -1 : 0;
}

static int compile(sc_job *j) {
  uint32_t default_errno = EPERM, default_action;
  if (j->default_errno_present) {
    if (!supports_errno(j->default_action)) FAIL("errno value specified for action `%s`", j->default_action);
    default_errno = j->default_errno;
  }
  if (action_of(j->default_action, default_errno, &default_action) < 0) FAIL("invalid seccomp action `%s`", j->default_action);
  size_t names = 0;
  for (size_t i = 0; i < j->nrules; i++) names += j->rules[i].nnames;
  if (!(j->unknown = calloc(names ? names : 1, sizeof(char *)))) FAIL("out of memory");
  scmp_filter_ctx ctx = seccomp_init(default_action);
  if (!ctx) FAIL("error seccomp_init");
  int ret = 0;
  for (size_t i = 0; i < j->narchs && ret == 0; i++) ret = add_arch(j, ctx, j->archs[i]);
  if (ret == 0) ret = add_rules(j, ctx, default_action);
  if (ret == 0) ret = export_bpf(j, ctx);
  seccomp_release(ctx);
  return ret;
}

// libseccomp keeps process-wide state (the kernel's API level, probed once): one compile at a time.
static pthread_mutex_t compile_lock = PTHREAD_MUTEX_INITIALIZER;

static void execute(napi_env env, void *data) {
  sc_job *j = data;
  pthread_mutex_lock(&compile_lock);
  compile(j);
  pthread_mutex_unlock(&compile_lock);
}

static void complete(napi_env env, napi_status status, void *data) {
  sc_job *j = data;
  napi_value result, v, list;
  if (status != napi_ok && !j->err[0]) snprintf(j->err, sizeof j->err, "compileSeccomp: the work was cancelled");
  if (j->err[0]) {
    napi_value msg;
    napi_create_string_utf8(env, j->err, NAPI_AUTO_LENGTH, &msg);
    napi_create_error(env, NULL, msg, &result);
    napi_reject_deferred(env, j->deferred, result);
  } else {
    napi_create_object(env, &result);
    napi_create_buffer_copy(env, j->bpf_len, j->bpf, NULL, &v);
    napi_set_named_property(env, result, "bpf", v);
    napi_create_array_with_length(env, j->nunknown, &list);
    for (size_t i = 0; i < j->nunknown; i++) {
      napi_create_string_utf8(env, j->unknown[i], NAPI_AUTO_LENGTH, &v);
      napi_set_element(env, list, (uint32_t)i, v);
    }
    napi_set_named_property(env, result, "unknown", list);
    napi_resolve_deferred(env, j->deferred, result);
  }
  napi_delete_async_work(env, j->work);
  free_job(j);
}

napi_value berth_compile_seccomp(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2], promise, name;
  napi_valuetype t;
  bool fail_unknown = false;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1 || napi_typeof(env, argv[0], &t) != napi_ok ||
      t != napi_object || (argc > 1 && napi_get_value_bool(env, argv[1], &fail_unknown) != napi_ok)) {
    napi_throw_type_error(env, NULL, "compileSeccomp(section, failUnknown?)");
    return NULL;
  }
  sc_job *j = calloc(1, sizeof *j);
  if (!j) {
    napi_throw_error(env, NULL, "out of memory");
    return NULL;
  }
  j->fail_unknown = fail_unknown;
  if (read_section(env, argv[0], j) < 0) {
    free_job(j);
    return NULL;
  }
  napi_create_string_utf8(env, "berth.compileSeccomp", NAPI_AUTO_LENGTH, &name);
  if (napi_create_promise(env, &j->deferred, &promise) != napi_ok ||
      napi_create_async_work(env, NULL, name, execute, complete, j, &j->work) != napi_ok || napi_queue_async_work(env, j->work) != napi_ok) {
    free_job(j);
    napi_throw_error(env, NULL, "compileSeccomp: cannot queue the work");
    return NULL;
  }
  return promise;
}
