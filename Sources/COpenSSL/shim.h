#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <openssl/pem.h>
#include <openssl/evp.h>

// OpenSSL's macros, as functions Swift can call (STYLE.md: C macros get
// prefixed functions, not re-implementations).

static inline long remora_ssl_ctx_set_mode(SSL_CTX *ctx, long mode) { return SSL_CTX_set_mode(ctx, mode); }
static inline int remora_ssl_ctx_set_min_proto(SSL_CTX *ctx, int version) { return (int)SSL_CTX_set_min_proto_version(ctx, version); }
static inline int remora_ssl_ctx_set_max_proto(SSL_CTX *ctx, int version) { return (int)SSL_CTX_set_max_proto_version(ctx, version); }
static inline int remora_ssl_ctx_set_groups_list(SSL_CTX *ctx, const char *list) { return (int)SSL_CTX_set1_groups_list(ctx, list); }
static inline int remora_ssl_ctx_add0_chain_cert(SSL_CTX *ctx, X509 *cert) { return (int)SSL_CTX_add0_chain_cert(ctx, cert); }
static inline int remora_ssl_set_host_name(SSL *ssl, const char *name) { return (int)SSL_set_tlsext_host_name(ssl, name); }
static inline int remora_ssl_negotiated_group(SSL *ssl) { return SSL_get_negotiated_group(ssl); }
static inline long remora_ssl_ctx_set_session_cache_mode(SSL_CTX *ctx, long mode) { return SSL_CTX_set_session_cache_mode(ctx, mode); }
static inline long remora_bio_pending(BIO *bio) { return (long)BIO_pending(bio); }
static inline int remora_bio_set_mem_eof_return(BIO *bio, int v) { return (int)BIO_set_mem_eof_return(bio, v); }
static inline int remora_general_name_count(GENERAL_NAMES *names) { return sk_GENERAL_NAME_num(names); }
static inline GENERAL_NAME *remora_general_name_at(GENERAL_NAMES *names, int i) { return sk_GENERAL_NAME_value(names, i); }
static inline int remora_sk_x509_num(STACK_OF(X509) *stack) { return sk_X509_num(stack); }
static inline X509 *remora_sk_x509_value(STACK_OF(X509) *stack, int i) { return sk_X509_value(stack, i); }
static inline void remora_general_names_free(GENERAL_NAMES *names) { GENERAL_NAMES_free(names); }
static inline int remora_ssl_peer_signature_nid(SSL *ssl, int *nid) { return (int)SSL_get_peer_signature_nid(ssl, nid); }
static inline unsigned long remora_xn_flag_rfc2253(void) { return XN_FLAG_RFC2253; }
static inline void remora_bio_set_retry_read(BIO *bio) { BIO_set_retry_read(bio); }
static inline void remora_bio_clear_retry_flags(BIO *bio) { BIO_clear_retry_flags(bio); }
static inline void remora_openssl_free(void *p) { OPENSSL_free(p); }
