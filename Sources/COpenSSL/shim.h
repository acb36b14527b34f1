#include <openssl/ssl.h>
#include <openssl/ocsp.h>
#include <string.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <openssl/pem.h>
#include <openssl/evp.h>

// OpenSSL's macros, as functions Swift can call (STYLE.md: C macros get
// prefixed functions, not re-implementations).

static inline long remora_ssl_ctx_set_mode(SSL_CTX *ctx, long mode) { return SSL_CTX_set_mode(ctx, mode); }
/* OCSP stapling: the server's status callback, and a response handed to one session (OpenSSL frees its copy). */
static inline void remora_ssl_ctx_set_status_cb(SSL_CTX *ctx, int (*cb)(SSL *, void *), void *arg) {
    SSL_CTX_set_tlsext_status_cb(ctx, cb);
    SSL_CTX_set_tlsext_status_arg(ctx, arg);
}
static inline int remora_ssl_staple_ocsp(SSL *ssl, const unsigned char *der, long length) {
    unsigned char *copy = OPENSSL_malloc(length > 0 ? (size_t)length : 1);
    if (copy == NULL) return 0;
    memcpy(copy, der, (size_t)length);
    if (SSL_set_tlsext_status_ocsp_resp(ssl, copy, length) != 1) { OPENSSL_free(copy); return 0; }
    return 1;
}
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

#include <openssl/core_names.h>
#include <openssl/rand.h>
#include <string.h>

// A session ticket key as Envoy (BoringSSL) lays out its 80 bytes.
typedef struct { unsigned char name[16]; unsigned char hmac[32]; unsigned char aes[32]; } remora_ticket_key;

// Sets up one ticket's encryption (enc = 1, with keys[0] and a fresh IV) or
// decryption (by key name): OpenSSL's ticket key callback contract. Returns
// 1 (use), 2 (decrypted with an older key: issue a new ticket), 0 (unknown
// key: full handshake) or -1.
static inline int remora_ticket_crypt(const remora_ticket_key *keys, int count, unsigned char *name, unsigned char *iv,
                                      EVP_CIPHER_CTX *cipher, EVP_MAC_CTX *mac, int enc) {
    int index = 0;
    if (enc) {
        if (count < 1) return -1;
        memcpy(name, keys[0].name, 16);
        if (RAND_bytes(iv, EVP_CIPHER_get_iv_length(EVP_aes_256_cbc())) != 1) return -1;
    } else {
        for (index = 0; index < count; index++) {
            if (memcmp(name, keys[index].name, 16) == 0) break;
        }
        if (index == count) return 0;
    }
    OSSL_PARAM params[3];
    params[0] = OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_KEY, (void *)keys[index].hmac, 32);
    params[1] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0);
    params[2] = OSSL_PARAM_construct_end();
    if (EVP_MAC_CTX_set_params(mac, params) != 1) return -1;
    if (enc) {
        if (EVP_EncryptInit_ex(cipher, EVP_aes_256_cbc(), NULL, keys[index].aes, iv) != 1) return -1;
        return 1;
    }
    if (EVP_DecryptInit_ex(cipher, EVP_aes_256_cbc(), NULL, keys[index].aes, iv) != 1) return -1;
    return index == 0 ? 1 : 2;
}
static inline long remora_ssl_ctx_set_options(SSL_CTX *ctx, uint64_t options) { return (long)SSL_CTX_set_options(ctx, options); }
static inline uint64_t remora_ssl_op_no_ticket(void) { return SSL_OP_NO_TICKET; }

// Gives one connection a certificate other than its context's default (a
// server context with several, chosen at the ClientHello).
static inline int remora_ssl_use_cert_and_key(SSL *ssl, X509 *leaf, EVP_PKEY *key, X509 **chain, int count) {
    STACK_OF(X509) *stack = sk_X509_new_null();
    if (stack == NULL) return 0;
    for (int i = 0; i < count; i++) {
        if (sk_X509_push(stack, chain[i]) <= 0) { sk_X509_free(stack); return 0; }
    }
    int ok = SSL_use_cert_and_key(ssl, leaf, key, stack, 1);
    sk_X509_free(stack);
    return ok;
}
static inline int remora_ec_key_curve(EVP_PKEY *key) {
    if (EVP_PKEY_get_base_id(key) != EVP_PKEY_EC) return 0;
    char name[64];
    size_t length = 0;
    if (EVP_PKEY_get_utf8_string_param(key, "group", name, sizeof(name), &length) != 1) return 0;
    return OBJ_txt2nid(name);
}

/* An otherName SAN as Envoy's `Utility::generalNameAsString` prints it:
   string types as their bytes, BMP and Universal strings as UTF-8 (up to a
   NUL), integers and enumerations in decimal, an OID dotted, a boolean
   `true`/`false`; anything else (NULL, unknown types) as nothing. Writes the
   type OID, dotted, into `oid` (empty if it does not fit). Returns an
   OPENSSL_malloc'd copy of the text with its length in `*length`, or NULL
   for none. */
static inline char *remora_othername_text(const GENERAL_NAME *name, char *oid, int oid_size, int *length) {
    *length = 0;
    if (oid_size > 0) oid[0] = 0;
    if (name == NULL || name->type != GEN_OTHERNAME || name->d.otherName == NULL) return NULL;
    int oid_length = OBJ_obj2txt(oid, oid_size, name->d.otherName->type_id, 1);
    if (oid_length < 0 || oid_length >= oid_size) oid[0] = 0;
    const ASN1_TYPE *value = name->d.otherName->value;
    if (value == NULL) return NULL;
    switch (value->type) {
    case V_ASN1_BOOLEAN: {
        const char *text = value->value.boolean ? "true" : "false";
        *length = (int)strlen(text);
        return OPENSSL_strdup(text);
    }
    case V_ASN1_INTEGER:
    case V_ASN1_ENUMERATED: {
        BIGNUM *number = value->type == V_ASN1_INTEGER ? ASN1_INTEGER_to_BN(value->value.integer, NULL)
                                                       : ASN1_ENUMERATED_to_BN(value->value.enumerated, NULL);
        if (number == NULL) return NULL;
        char *text = BN_bn2dec(number);
        BN_free(number);
        if (text != NULL) *length = (int)strlen(text);
        return text;
    }
    case V_ASN1_OBJECT: {
        char text[80]; /* Envoy's MAX_OID_LENGTH */
        int n = OBJ_obj2txt(text, sizeof(text), value->value.object, 1);
        if (n < 0 || n > (int)sizeof(text)) return NULL;
        *length = (int)strlen(text);
        return OPENSSL_strdup(text);
    }
    case V_ASN1_BMPSTRING:
    case V_ASN1_UNIVERSALSTRING: {
        unsigned char *text = NULL;
        if (ASN1_STRING_to_UTF8(&text, value->value.asn1_string) < 0 || text == NULL) return NULL;
        *length = (int)strlen((const char *)text);
        return (char *)text;
    }
    case V_ASN1_BIT_STRING: case V_ASN1_OCTET_STRING: case V_ASN1_PRINTABLESTRING: case V_ASN1_T61STRING:
    case V_ASN1_IA5STRING: case V_ASN1_GENERALSTRING: case V_ASN1_UTCTIME: case V_ASN1_GENERALIZEDTIME:
    case V_ASN1_VISIBLESTRING: case V_ASN1_UTF8STRING: case V_ASN1_SET: case V_ASN1_SEQUENCE: {
        const ASN1_STRING *string = value->value.asn1_string;
        int n = ASN1_STRING_length(string);
        if (n <= 0) return NULL;
        char *copy = OPENSSL_malloc((size_t)n);
        if (copy == NULL) return NULL;
        memcpy(copy, ASN1_STRING_get0_data(string), (size_t)n);
        *length = n;
        return copy;
    }
    default:
        return NULL;
    }
}

/* An OID given as text (dotted, or a name OpenSSL knows: `msUPN`) in dotted
   form, as Envoy's `OBJ_txt2obj(oid, 0)` reads it; 0 when it is not one. */
static inline int remora_oid_dotted(const char *text, char *out, int out_size) {
    if (text == NULL || text[0] == 0) return 0;
    ASN1_OBJECT *object = OBJ_txt2obj(text, 0);
    if (object == NULL) { ERR_clear_error(); return 0; }
    int n = OBJ_obj2txt(out, out_size, object, 1);
    ASN1_OBJECT_free(object);
    return n > 0 && n < out_size;
}

/* Server-initiated renegotiation (clients): refused unless allowed, as
   BoringSSL (Envoy) refuses it unless `allow_renegotiation`. */
static inline uint64_t remora_ssl_op_no_renegotiation(void) { return SSL_OP_NO_RENEGOTIATION; }

/* Queues an SSL-library error (ERR_raise), for failures found outside OpenSSL's own record layer. */
static inline void remora_err_raise_ssl(int reason) { ERR_raise(ERR_LIB_SSL, reason); }
