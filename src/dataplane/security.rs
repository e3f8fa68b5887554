//! Kafka client security (TLS and SASL) as Kafka Connect's worker and connector configs write
//! it, translated into librdkafka's settings.
//!
//! Where the keys come from, lowest precedence first (each client the node makes: task
//! producers, task consumers, the metadata client, the producer pool's spare):
//! 1. top-level `security.protocol`, `ssl.*`, `sasl.*` of the worker properties;
//! 2. the worker's `producer.` / `consumer.` (the metadata client: `consumer.`) / `admin.` keys;
//! 3. the connector's `producer.override.` / `consumer.override.` / `admin.override.` keys.
//!
//! (Kafka Connect itself gives the top-level keys to the worker's own clients and its admin
//! clients, and task producers and consumers only their prefixed keys; raftconnect has no
//! clients of its own besides the metadata client, and gives the top-level keys to all.)
//!
//! Each layer is translated on its own ([`translate`]), then merged ([`merge`]): a key of a
//! higher layer replaces the same key of a lower one, and three groups are replaced as a whole
//! when a higher layer sets any key of the group — the trust store (`ssl.truststore.*`,
//! `ssl.ca.*`), the key store (`ssl.keystore.*`, `ssl.key.*`, `ssl.certificate.*`) and the SASL
//! credentials (`sasl.jaas.config`, `sasl.username`, `sasl.password`). So a connector that
//! overrides `consumer.override.ssl.truststore.location` also names its
//! `consumer.override.ssl.truststore.type` (Java would take the type from the worker).
//!
//! | Java key (Kafka Connect) | librdkafka | refused |
//! |---|---|---|
//! | `security.protocol` PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL | `security.protocol` | other values |
//! | `sasl.mechanism` (or librdkafka's `sasl.mechanisms`) PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 | `sasl.mechanism` | GSSAPI (also as the default under SASL_*), OAUTHBEARER, others |
//! | `sasl.jaas.config` `…plain.PlainLoginModule` / `…scram.ScramLoginModule required username="u" password="p";` | `sasl.username`, `sasl.password` | other login modules, other options, `tokenauth=true`, more than one module, a module that does not match `sasl.mechanism` of the same layer |
//! | `sasl.username`, `sasl.password` | as is | together with `sasl.jaas.config` |
//! | `ssl.endpoint.identification.algorithm` `https` / empty (none) | `https` / `none` | other values |
//! | `ssl.truststore.location` + `ssl.truststore.type=PEM` | `ssl.ca.location` | JKS or PKCS12 trust stores, no type (Java's default is JKS), a password |
//! | `ssl.truststore.certificates` (PEM text) | `ssl.ca.pem` | type JKS/PKCS12 |
//! | `ssl.keystore.location` + `ssl.keystore.type=PKCS12` + `ssl.keystore.password` | `ssl.keystore.location`, `ssl.keystore.password` | JKS, no type (JKS), `ssl.key.password` other than the store password |
//! | `ssl.keystore.location` + `ssl.keystore.type=PEM` (key and chain in one file) + `ssl.key.password` | `ssl.certificate.location`, `ssl.key.location` (the same file), `ssl.key.password` | a store password |
//! | `ssl.keystore.certificate.chain` + `ssl.keystore.key` (PEM text) + `ssl.key.password` | `ssl.certificate.pem`, `ssl.key.pem`, `ssl.key.password` | one without the other, type PKCS12 |
//! | `ssl.enabled.protocols` `TLSv1.2,TLSv1.3` (Java's default) | nothing: OpenSSL here negotiates TLSv1.2 or TLSv1.3 | any other set (librdkafka cannot restrict the versions) |
//! | `ssl.protocol` `TLSv1.3` (Java's default) or `TLS` | nothing (the highest version both ends have) | `TLSv1.2` and others (no cap in librdkafka) |
//! | `ssl.cipher.suites` in OpenSSL's names | `ssl.cipher.suites` (`:`-separated) | Java's IANA names (`TLS_…`) |
//! | `ssl.keymanager.algorithm`, `ssl.trustmanager.algorithm` `SunX509` / `PKIX` | nothing (OpenSSL's X.509 path validation) | other algorithms |
//! | librdkafka's own `ssl.ca.location`, `ssl.ca.pem`, `ssl.certificate.location`, `ssl.certificate.pem`, `ssl.key.location`, `ssl.key.pem`, `enable.ssl.certificate.verification`, … | as is | mixed with the Java key of the same thing in one layer |
//!
//! Any other `ssl.*` / `sasl.*` key goes to librdkafka as it is, and librdkafka refuses names
//! it does not know (Java-only ones such as `ssl.provider`, `sasl.login.callback.handler.class`)
//! when the layer is checked (`kafka::client_layer`). This build of librdkafka (rdkafka's `ssl`
//! feature: OpenSSL) has TLS and the SASL mechanisms PLAIN and SCRAM, and no GSSAPI (no
//! libsasl2); its OAUTHBEARER would need Java's token callbacks, so it is refused too.
//!
//! No message or log line carries a secret: a refused secret value (passwords, keys, the JAAS
//! config, PEM texts) is shown as `[hidden]`, as Kafka shows a PASSWORD value.

use std::collections::{BTreeMap, BTreeSet};

pub type Props = BTreeMap<String, String>;

/// What Kafka's `Password.toString()` shows.
pub const HIDDEN: &str = "[hidden]";

pub const PLAIN_LOGIN_MODULE: &str = "org.apache.kafka.common.security.plain.PlainLoginModule";
pub const SCRAM_LOGIN_MODULE: &str = "org.apache.kafka.common.security.scram.ScramLoginModule";

const PROTOCOLS: [&str; 4] = ["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"];
/// The SASL mechanisms of this build (librdkafka with OpenSSL, without libsasl2).
pub const MECHANISMS: [&str; 3] = ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"];
const MECHANISM_REASON: &str = "this build supports the SASL mechanisms PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512 \
                                only (librdkafka without GSSAPI/Kerberos; OAUTHBEARER is not supported)";

/// librdkafka's settings that the trust store, key store and credentials groups produce: a
/// layer that sets any of a group replaces the whole group of the layers below.
const TRUST_GROUP: &[&str] = &["ssl.ca.location", "ssl.ca.pem"];
const KEY_GROUP: &[&str] = &[
    "ssl.keystore.location",
    "ssl.keystore.password",
    "ssl.certificate.location",
    "ssl.key.location",
    "ssl.certificate.pem",
    "ssl.key.pem",
    "ssl.key.password",
];
const CREDENTIALS_GROUP: &[&str] = &["sasl.username", "sasl.password"];

/// A client setting refused, in Kafka's `ConfigException` wording. `value` is `[hidden]` for a
/// secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClientConfigError {
    #[error("Invalid value {value} for configuration {key}: {reason}")]
    Invalid { key: String, value: String, reason: String },
}

impl ClientConfigError {
    /// A refusal of `key` (the full key, prefix included) and its value, hidden if secret.
    pub fn invalid(key: &str, value: &str, reason: impl Into<String>) -> Self {
        let value = if is_secret(key) { HIDDEN.to_string() } else { value.to_string() };
        Self::Invalid { key: key.to_string(), value, reason: reason.into() }
    }

    pub fn key(&self) -> &str {
        match self {
            Self::Invalid { key, .. } => key,
        }
    }

    pub fn shown_value(&self) -> &str {
        match self {
            Self::Invalid { value, .. } => value,
        }
    }
}

impl From<ClientConfigError> for crate::config::ConfigError {
    fn from(e: ClientConfigError) -> Self {
        match e {
            ClientConfigError::Invalid { key, value, reason } => Self::Invalid { key, value, reason },
        }
    }
}

/// Is the value of this key (Java's or librdkafka's name, with or without a prefix) a secret,
/// or a PEM text (Kafka types those PASSWORD too)?
pub fn is_secret(key: &str) -> bool {
    const PEM_OR_KEY: [&str; 7] = [
        "ssl.keystore.key",
        "ssl.keystore.certificate.chain",
        "ssl.truststore.certificates",
        "ssl.key.pem",
        "ssl.certificate.pem",
        "ssl.ca.pem",
        "ssl_key",
    ];
    key.contains("password")
        || key.contains("secret")
        || key.ends_with("jaas.config")
        || PEM_OR_KEY.iter().any(|k| key == *k || key.ends_with(&format!(".{k}")))
}

/// Keys this module translates: `security.protocol`, `ssl.*`, `sasl.*` and librdkafka's
/// `enable.ssl.certificate.verification`.
pub fn is_security_key(key: &str) -> bool {
    key == "security.protocol"
        || key == "enable.ssl.certificate.verification"
        || key.starts_with("ssl.")
        || key.starts_with("sasl.")
}

/// The security keys of `props` (the top-level keys of the worker properties).
pub fn security_keys(props: &Props) -> Props {
    props.iter().filter(|(k, _)| is_security_key(k)).map(|(k, v)| (k.clone(), v.clone())).collect()
}

struct Layer<'a> {
    prefix: &'a str,
    props: &'a Props,
    out: Props,
}

impl Layer<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.props.get(key).map(String::as_str)
    }

    fn name(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }

    /// Refuse `key` with its value in this layer.
    fn refuse(&self, key: &str, reason: impl Into<String>) -> ClientConfigError {
        ClientConfigError::invalid(&self.name(key), self.get(key).unwrap_or("null"), reason)
    }

    /// Refuse `key` with a value it has by default.
    fn refuse_default(&self, key: &str, value: &str, reason: impl Into<String>) -> ClientConfigError {
        ClientConfigError::invalid(&self.name(key), value, reason)
    }

    fn both(&self, a: &str, b: &str) -> ClientConfigError {
        self.refuse(b, format!("{} and {} may not both be set", self.name(a), self.name(b)))
    }

    fn set(&mut self, key: &str, value: &str) {
        self.out.insert(key.to_string(), value.to_string());
    }

    fn pass(&mut self, key: &str) {
        if let Some(v) = self.props.get(key) {
            self.out.insert(key.to_string(), v.clone());
        }
    }
}

/// The keys of `layer` this module handles itself; the other security keys go to librdkafka
/// as they are.
const HANDLED: &[&str] = &[
    "security.protocol",
    "sasl.mechanism",
    "sasl.mechanisms",
    "sasl.jaas.config",
    "sasl.username",
    "sasl.password",
    "ssl.endpoint.identification.algorithm",
    "ssl.truststore.location",
    "ssl.truststore.certificates",
    "ssl.truststore.type",
    "ssl.truststore.password",
    "ssl.ca.location",
    "ssl.ca.pem",
    "ssl.keystore.location",
    "ssl.keystore.type",
    "ssl.keystore.password",
    "ssl.keystore.certificate.chain",
    "ssl.keystore.key",
    "ssl.key.password",
    "ssl.certificate.location",
    "ssl.key.location",
    "ssl.certificate.pem",
    "ssl.key.pem",
    "ssl.enabled.protocols",
    "ssl.protocol",
    "ssl.cipher.suites",
    "ssl.keymanager.algorithm",
    "ssl.trustmanager.algorithm",
];

/// Translate the security keys of one layer (prefix stripped; `prefix` only names keys in
/// messages) into librdkafka's settings. Keys that are not security keys are left out.
pub fn translate(prefix: &str, layer: &Props) -> Result<Props, ClientConfigError> {
    let sec = security_keys(layer);
    let mut l = Layer { prefix, props: &sec, out: Props::new() };
    protocol(&mut l)?;
    let module = credentials(&mut l)?;
    mechanism(&mut l, module.as_deref())?;
    endpoint_identification(&mut l)?;
    trust_store(&mut l)?;
    key_store(&mut l)?;
    tls_versions(&mut l)?;
    ciphers(&mut l)?;
    for key in ["ssl.keymanager.algorithm", "ssl.trustmanager.algorithm"] {
        if let Some(v) = l.get(key) {
            if !matches!(v.trim(), "SunX509" | "PKIX") {
                return Err(l.refuse(
                    key,
                    "Java's key and trust manager algorithms are not available: librdkafka verifies \
                     certificates with OpenSSL (PKIX); only SunX509 or PKIX is accepted",
                ));
            }
        }
    }
    for key in sec.keys().filter(|k| !HANDLED.contains(&k.as_str())) {
        l.pass(key);
    }
    Ok(l.out)
}

fn protocol(l: &mut Layer) -> Result<(), ClientConfigError> {
    if let Some(v) = l.get("security.protocol") {
        let upper = v.trim().to_ascii_uppercase();
        if !PROTOCOLS.contains(&upper.as_str()) {
            return Err(l.refuse("security.protocol", format!("String must be one of: {}", PROTOCOLS.join(", "))));
        }
        l.set("security.protocol", &upper.to_ascii_lowercase());
    }
    Ok(())
}

/// `sasl.jaas.config` or `sasl.username` / `sasl.password`; returns the JAAS login module.
fn credentials(l: &mut Layer) -> Result<Option<String>, ClientConfigError> {
    let Some(jaas) = l.get("sasl.jaas.config") else {
        l.pass("sasl.username");
        l.pass("sasl.password");
        return Ok(None);
    };
    for k in ["sasl.username", "sasl.password"] {
        if l.get(k).is_some() {
            return Err(l.both("sasl.jaas.config", k));
        }
    }
    let entry = parse_jaas(jaas).map_err(|reason| l.refuse("sasl.jaas.config", reason))?;
    let (user, password) = login_credentials(&entry).map_err(|reason| l.refuse("sasl.jaas.config", reason))?;
    l.set("sasl.username", &user);
    l.set("sasl.password", &password);
    Ok(Some(entry.module))
}

fn mechanism(l: &mut Layer, module: Option<&str>) -> Result<(), ClientConfigError> {
    let key = match (l.get("sasl.mechanism"), l.get("sasl.mechanisms")) {
        (Some(_), Some(_)) => return Err(l.both("sasl.mechanism", "sasl.mechanisms")),
        (Some(_), None) => "sasl.mechanism",
        (None, Some(_)) => "sasl.mechanisms",
        (None, None) => return Ok(()),
    };
    let m = l.get(key).unwrap_or_default().trim().to_ascii_uppercase();
    if !MECHANISMS.contains(&m.as_str()) {
        return Err(l.refuse(key, MECHANISM_REASON));
    }
    match module {
        Some(PLAIN_LOGIN_MODULE) if m != "PLAIN" => {
            return Err(
                l.refuse(key, format!("{PLAIN_LOGIN_MODULE} in sasl.jaas.config goes with sasl.mechanism=PLAIN"))
            )
        }
        Some(SCRAM_LOGIN_MODULE) if !m.starts_with("SCRAM-") => {
            return Err(l.refuse(
                key,
                format!(
                    "{SCRAM_LOGIN_MODULE} in sasl.jaas.config goes with sasl.mechanism=SCRAM-SHA-256 or SCRAM-SHA-512"
                ),
            ))
        }
        _ => {}
    }
    l.set("sasl.mechanism", &m);
    Ok(())
}

fn endpoint_identification(l: &mut Layer) -> Result<(), ClientConfigError> {
    let key = "ssl.endpoint.identification.algorithm";
    if let Some(v) = l.get(key) {
        let v = v.trim();
        let out = if v.is_empty() || v.eq_ignore_ascii_case("none") {
            "none"
        } else if v.eq_ignore_ascii_case("https") {
            "https"
        } else {
            return Err(l.refuse(key, "String must be one of: https, or empty for no host name verification"));
        };
        l.set(key, out);
    }
    Ok(())
}

/// The first of `keys` set in the layer, refusing a second one.
fn one_of<'k>(l: &Layer, keys: &[&'k str]) -> Result<Option<&'k str>, ClientConfigError> {
    let set: Vec<&str> = keys.iter().copied().filter(|k| l.get(k).is_some()).collect();
    match set.as_slice() {
        [] => Ok(None),
        [one] => Ok(Some(*one)),
        [a, b, ..] => Err(l.both(a, b)),
    }
}

fn trust_store(l: &mut Layer) -> Result<(), ClientConfigError> {
    let ty_key = "ssl.truststore.type";
    let source =
        one_of(l, &["ssl.truststore.location", "ssl.truststore.certificates", "ssl.ca.location", "ssl.ca.pem"])?;
    let ty = l.get(ty_key).map(|t| t.trim().to_ascii_uppercase());
    match ty.as_deref() {
        None | Some("PEM") => {}
        Some("JKS" | "PKCS12") => {
            return Err(l.refuse(
                ty_key,
                "librdkafka reads PEM trust stores only: convert it to PEM (e.g. keytool -exportcert -rfc, \
                 or openssl pkcs12 -nokeys) and set ssl.truststore.type=PEM",
            ))
        }
        Some(_) => return Err(l.refuse(ty_key, "String must be one of: PEM (librdkafka reads no other trust store)")),
    }
    if l.get("ssl.truststore.password").is_some() {
        return Err(l.refuse(
            "ssl.truststore.password",
            "a PEM trust store has no password (librdkafka reads PEM trust stores only)",
        ));
    }
    match source {
        None if ty.is_some() => {
            Err(l.refuse(ty_key, "set in the same config as ssl.truststore.location or ssl.truststore.certificates"))
        }
        None => Ok(()),
        Some("ssl.truststore.location") => {
            if ty.is_none() {
                return Err(l.refuse_default(
                    ty_key,
                    "JKS",
                    "the default trust store type JKS cannot be read by librdkafka: set ssl.truststore.type=PEM \
                     with a PEM file of the CA certificates",
                ));
            }
            let v = l.get("ssl.truststore.location").unwrap_or_default().to_string();
            l.set("ssl.ca.location", &v);
            Ok(())
        }
        Some("ssl.truststore.certificates") => {
            let v = l.get("ssl.truststore.certificates").unwrap_or_default().to_string();
            l.set("ssl.ca.pem", &v);
            Ok(())
        }
        Some(native) => {
            l.pass(native);
            Ok(())
        }
    }
}

fn key_store(l: &mut Layer) -> Result<(), ClientConfigError> {
    let ty_key = "ssl.keystore.type";
    let native = ["ssl.certificate.location", "ssl.key.location", "ssl.certificate.pem", "ssl.key.pem"];
    let pem_text = ["ssl.keystore.certificate.chain", "ssl.keystore.key"];
    let form = |keys: &[&'static str]| keys.iter().copied().find(|k| l.get(k).is_some());
    let forms: Vec<&str> =
        [form(&["ssl.keystore.location"]), form(&pem_text), form(&native)].into_iter().flatten().collect();
    if let [a, b, ..] = forms.as_slice() {
        return Err(l.both(a, b));
    }
    let ty = l.get(ty_key).map(|t| t.trim().to_ascii_uppercase());
    match ty.as_deref() {
        None | Some("PKCS12" | "PEM") => {}
        Some("JKS") => {
            return Err(l.refuse(
                ty_key,
                "librdkafka cannot read JKS key stores: convert it to PKCS12 (keytool -importkeystore \
                 -deststoretype PKCS12) and set ssl.keystore.type=PKCS12, or to PEM",
            ))
        }
        Some(_) => return Err(l.refuse(ty_key, "String must be one of: PKCS12, PEM")),
    }
    let store_password = l.get("ssl.keystore.password").map(str::to_string);
    let key_password = l.get("ssl.key.password").map(str::to_string);
    let no_store_password = |l: &Layer| {
        l.refuse(
            "ssl.keystore.password",
            "a PEM key store has no store password: the key's passphrase goes in ssl.key.password",
        )
    };
    match forms.first().copied() {
        None => {
            for k in [ty_key, "ssl.keystore.password", "ssl.key.password"] {
                if l.get(k).is_some() {
                    return Err(l.refuse(
                        k,
                        "set in the same config as ssl.keystore.location, or ssl.keystore.certificate.chain \
                         and ssl.keystore.key",
                    ));
                }
            }
        }
        Some("ssl.keystore.location") => {
            let loc = l.get("ssl.keystore.location").unwrap_or_default().to_string();
            match ty.as_deref() {
                None => {
                    return Err(l.refuse_default(
                        ty_key,
                        "JKS",
                        "the default key store type JKS cannot be read by librdkafka: set ssl.keystore.type=PKCS12 \
                         (or PEM) with a key store of that type",
                    ))
                }
                Some("PKCS12") => {
                    if key_password.is_some() && key_password != store_password {
                        return Err(l.refuse(
                            "ssl.key.password",
                            "librdkafka decrypts the key of a PKCS12 key store with ssl.keystore.password: \
                             ssl.key.password must be unset or the same",
                        ));
                    }
                    l.set("ssl.keystore.location", &loc);
                    l.pass("ssl.keystore.password");
                }
                _ => {
                    if store_password.is_some() {
                        return Err(no_store_password(l));
                    }
                    l.set("ssl.certificate.location", &loc);
                    l.set("ssl.key.location", &loc);
                    l.pass("ssl.key.password");
                }
            }
        }
        Some("ssl.keystore.certificate.chain" | "ssl.keystore.key") => {
            for (k, other) in [(pem_text[0], pem_text[1]), (pem_text[1], pem_text[0])] {
                if l.get(k).is_none() {
                    return Err(l.refuse(other, format!("set together with {}", l.name(k))));
                }
            }
            if ty.as_deref() == Some("PKCS12") {
                return Err(l.refuse(
                    ty_key,
                    "ssl.keystore.certificate.chain and ssl.keystore.key are PEM: set ssl.keystore.type=PEM",
                ));
            }
            if store_password.is_some() {
                return Err(no_store_password(l));
            }
            let chain = l.get(pem_text[0]).unwrap_or_default().to_string();
            let key = l.get(pem_text[1]).unwrap_or_default().to_string();
            l.set("ssl.certificate.pem", &chain);
            l.set("ssl.key.pem", &key);
            l.pass("ssl.key.password");
        }
        Some(_) => {
            if ty.as_deref() == Some("PKCS12") {
                return Err(l.refuse(ty_key, "ssl.certificate.* and ssl.key.* are PEM: set ssl.keystore.type=PEM"));
            }
            if store_password.is_some() {
                return Err(l.refuse("ssl.keystore.password", "set in the same config as ssl.keystore.location"));
            }
            for k in native {
                l.pass(k);
            }
            l.pass("ssl.key.password");
        }
    }
    Ok(())
}

fn tls_versions(l: &mut Layer) -> Result<(), ClientConfigError> {
    if let Some(v) = l.get("ssl.enabled.protocols") {
        let set: BTreeSet<&str> = v.split(',').map(str::trim).filter(|s| !s.is_empty()).collect();
        if set != BTreeSet::from(["TLSv1.2", "TLSv1.3"]) {
            return Err(l.refuse(
                "ssl.enabled.protocols",
                "librdkafka here negotiates TLSv1.2 or TLSv1.3 (OpenSSL's defaults) and cannot be limited to other \
                 versions: only TLSv1.2,TLSv1.3 is accepted",
            ));
        }
    }
    if let Some(v) = l.get("ssl.protocol") {
        if !matches!(v.trim(), "TLSv1.3" | "TLS") {
            return Err(l.refuse(
                "ssl.protocol",
                "librdkafka uses the highest TLS version both ends support (TLSv1.3, else TLSv1.2) and cannot cap \
                 it: only TLSv1.3 or TLS is accepted",
            ));
        }
    }
    Ok(())
}

fn ciphers(l: &mut Layer) -> Result<(), ClientConfigError> {
    let key = "ssl.cipher.suites";
    let Some(v) = l.get(key) else { return Ok(()) };
    let names: Vec<&str> = v.split([',', ':']).map(str::trim).filter(|s| !s.is_empty()).collect();
    if names.iter().any(|n| n.starts_with("TLS_")) {
        return Err(l.refuse(
            key,
            "librdkafka takes OpenSSL's cipher names for TLSv1.2 (e.g. ECDHE-RSA-AES128-GCM-SHA256), not Java's \
             IANA names, and no TLSv1.3 suites",
        ));
    }
    if !names.is_empty() {
        l.set(key, &names.join(":"));
    }
    Ok(())
}

/// One JAAS login module entry: `<module> <flag> name=value … ;`.
#[derive(Debug, PartialEq, Eq)]
pub struct JaasEntry {
    pub module: String,
    pub flag: String,
    pub options: Vec<(String, String)>,
}

/// Parse `sasl.jaas.config` (Kafka's `JaasConfig` syntax: one entry, values quoted with `"`
/// or `'` and backslash escapes, or bare words). The error reasons never quote the text.
pub fn parse_jaas(text: &str) -> Result<JaasEntry, String> {
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    let skip_ws = |i: &mut usize| {
        while *i < chars.len() && chars[*i].is_whitespace() {
            *i += 1;
        }
    };
    let word = |i: &mut usize| {
        let start = *i;
        while *i < chars.len() && !chars[*i].is_whitespace() && !matches!(chars[*i], ';' | '=') {
            *i += 1;
        }
        chars[start..*i].iter().collect::<String>()
    };
    skip_ws(&mut i);
    let module = word(&mut i);
    if module.is_empty() {
        return Err("no login module is given: expected `<LoginModule> required username=\"…\" password=\"…\";`".into());
    }
    skip_ws(&mut i);
    let flag = word(&mut i);
    if !["required", "requisite", "sufficient", "optional"].contains(&flag.to_ascii_lowercase().as_str()) {
        return Err("the login module's control flag must be required, requisite, sufficient or optional".into());
    }
    let mut options = Vec::new();
    loop {
        skip_ws(&mut i);
        match chars.get(i) {
            None => return Err("the login module entry must end with ';'".into()),
            Some(';') => {
                i += 1;
                break;
            }
            Some(_) => {}
        }
        let name = word(&mut i);
        skip_ws(&mut i);
        if name.is_empty() || chars.get(i) != Some(&'=') {
            return Err("the login module options must be name=value pairs".into());
        }
        i += 1;
        skip_ws(&mut i);
        let value = match chars.get(i) {
            Some(&q @ ('"' | '\'')) => {
                i += 1;
                let mut v = String::new();
                loop {
                    match chars.get(i) {
                        None => return Err(format!("the value of option {name} has no closing quote")),
                        Some('\\') if i + 1 < chars.len() => {
                            v.push(chars[i + 1]);
                            i += 2;
                        }
                        Some(&c) if c == q => {
                            i += 1;
                            break;
                        }
                        Some(&c) => {
                            v.push(c);
                            i += 1;
                        }
                    }
                }
                v
            }
            _ => word(&mut i),
        };
        options.push((name, value));
    }
    skip_ws(&mut i);
    if i < chars.len() {
        return Err("only one login module may be given".into());
    }
    Ok(JaasEntry { module, flag, options })
}

/// The username and password of a PLAIN or SCRAM login module entry.
fn login_credentials(entry: &JaasEntry) -> Result<(String, String), String> {
    if entry.module != PLAIN_LOGIN_MODULE && entry.module != SCRAM_LOGIN_MODULE {
        return Err(format!(
            "the login module {} is not supported: this build supports {PLAIN_LOGIN_MODULE} and {SCRAM_LOGIN_MODULE}",
            entry.module
        ));
    }
    let (mut user, mut password) = (None, None);
    for (name, value) in &entry.options {
        match name.as_str() {
            "username" => user = Some(value.clone()),
            "password" => password = Some(value.clone()),
            "tokenauth" if entry.module == SCRAM_LOGIN_MODULE => {
                if !value.eq_ignore_ascii_case("false") {
                    return Err("tokenauth (delegation tokens) is not supported by librdkafka".into());
                }
            }
            other => return Err(format!("the login module option {other} is not supported")),
        }
    }
    match (user, password) {
        (Some(u), Some(p)) => Ok((u, p)),
        _ => Err("the login module needs both a username and a password option".into()),
    }
}

/// Put a higher layer's settings over a lower one's: the trust store, key store and
/// credentials groups of `upper` replace the lower layer's whole group.
pub fn merge(lower: &mut Props, upper: Props) {
    for group in [TRUST_GROUP, KEY_GROUP, CREDENTIALS_GROUP] {
        if group.iter().any(|k| upper.contains_key(*k)) {
            for k in group {
                lower.remove(*k);
            }
        }
    }
    lower.extend(upper);
}

/// Checks of a client's merged settings: under SASL_* a mechanism is needed, as librdkafka's
/// and Java's default (GSSAPI) is not in this build.
pub fn check_merged(settings: &Props) -> Result<(), ClientConfigError> {
    let sasl = settings.get("security.protocol").is_some_and(|p| p.starts_with("sasl_"));
    if sasl && !settings.contains_key("sasl.mechanism") && !settings.contains_key("sasl.mechanisms") {
        return Err(ClientConfigError::invalid(
            "sasl.mechanism",
            "GSSAPI",
            format!("the default mechanism GSSAPI applies under SASL_* and {MECHANISM_REASON}: set sasl.mechanism"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn props(pairs: &[(&str, &str)]) -> Props {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    fn ok(pairs: &[(&str, &str)]) -> Props {
        translate("", &props(pairs)).unwrap()
    }

    fn refused(prefix: &str, pairs: &[(&str, &str)]) -> String {
        translate(prefix, &props(pairs)).unwrap_err().to_string()
    }

    #[test]
    fn protocol_mechanism_and_endpoint_identification() {
        let out = ok(&[
            ("security.protocol", "sasl_ssl"),
            ("sasl.mechanism", "SCRAM-SHA-512"),
            ("ssl.endpoint.identification.algorithm", ""),
        ]);
        assert_eq!(
            out,
            props(&[
                ("security.protocol", "sasl_ssl"),
                ("sasl.mechanism", "SCRAM-SHA-512"),
                ("ssl.endpoint.identification.algorithm", "none")
            ])
        );
        assert_eq!(
            ok(&[("ssl.endpoint.identification.algorithm", "HTTPS")])["ssl.endpoint.identification.algorithm"],
            "https"
        );
        assert_eq!(ok(&[("sasl.mechanisms", "PLAIN")])["sasl.mechanism"], "PLAIN");
        assert_eq!(
            refused("producer.", &[("security.protocol", "TLS")]),
            "Invalid value TLS for configuration producer.security.protocol: String must be one of: PLAINTEXT, SSL, \
             SASL_PLAINTEXT, SASL_SSL"
        );
        for m in ["GSSAPI", "OAUTHBEARER", "SCRAM-SHA-1"] {
            let e = refused("", &[("sasl.mechanism", m)]);
            assert!(
                e.starts_with(&format!("Invalid value {m} for configuration sasl.mechanism: this build supports")),
                "{e}"
            );
            assert!(e.contains("PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512"), "{e}");
        }
        assert!(
            refused("", &[("ssl.endpoint.identification.algorithm", "ldaps")]).contains("String must be one of: https")
        );
        assert!(
            refused("", &[("sasl.mechanism", "PLAIN"), ("sasl.mechanisms", "PLAIN")]).contains("may not both be set")
        );
    }

    #[test]
    fn jaas_plain_and_scram_become_username_and_password() {
        let out = ok(&[
            ("sasl.mechanism", "PLAIN"),
            (
                "sasl.jaas.config",
                r#"org.apache.kafka.common.security.plain.PlainLoginModule required username="u" password="p\"w;x";"#,
            ),
        ]);
        assert_eq!(out["sasl.username"], "u");
        assert_eq!(out["sasl.password"], "p\"w;x");
        assert!(!out.contains_key("sasl.jaas.config"), "librdkafka has no JAAS");
        let out = ok(&[(
            "sasl.jaas.config",
            "org.apache.kafka.common.security.scram.ScramLoginModule required\n  username=alice\n  password='s3cret' tokenauth=false ;",
        )]);
        assert_eq!((out["sasl.username"].as_str(), out["sasl.password"].as_str()), ("alice", "s3cret"));
        assert_eq!(
            ok(&[("sasl.username", "a"), ("sasl.password", "b")]),
            props(&[("sasl.username", "a"), ("sasl.password", "b")])
        );
    }

    #[test]
    fn jaas_refusals_name_the_key_and_never_the_secret() {
        let cases = [
            ("com.sun.security.auth.module.Krb5LoginModule required useKeyTab=true keyTab=\"/k\" principal=\"p\";", "Krb5LoginModule is not supported"),
            ("org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required;", "OAuthBearerLoginModule is not supported"),
            ("org.apache.kafka.common.security.plain.PlainLoginModule required username=\"u\" password=\"TOPSECRET\"", "must end with ';'"),
            ("org.apache.kafka.common.security.plain.PlainLoginModule required username=\"u\" password=\"TOPSECRET;", "no closing quote"),
            ("org.apache.kafka.common.security.plain.PlainLoginModule maybe username=\"u\" password=\"TOPSECRET\";", "control flag"),
            ("org.apache.kafka.common.security.plain.PlainLoginModule required password=\"TOPSECRET\";", "both a username and a password"),
            ("org.apache.kafka.common.security.plain.PlainLoginModule required username=\"u\" password=\"TOPSECRET\" user_u=\"TOPSECRET\";", "option user_u is not supported"),
            ("org.apache.kafka.common.security.scram.ScramLoginModule required username=\"u\" password=\"TOPSECRET\" tokenauth=true;", "tokenauth"),
            ("org.apache.kafka.common.security.plain.PlainLoginModule required username=\"u\" password=\"TOPSECRET\"; org.apache.kafka.common.security.plain.PlainLoginModule required username=\"v\" password=\"TOPSECRET\";", "only one login module"),
            ("", "no login module"),
        ];
        for (jaas, why) in cases {
            let e = refused("consumer.override.", &[("sasl.jaas.config", jaas)]);
            assert!(
                e.starts_with("Invalid value [hidden] for configuration consumer.override.sasl.jaas.config: "),
                "{e}"
            );
            assert!(e.contains(why), "{why}: {e}");
            assert!(!e.contains("TOPSECRET") && !e.contains("keyTab=") && !e.contains("/k"), "{e}");
        }
        let e = refused("", &[("sasl.jaas.config", "org.apache.kafka.common.security.plain.PlainLoginModule required username=\"u\" password=\"TOPSECRET\";"), ("sasl.password", "TOPSECRET")]);
        assert_eq!(e, "Invalid value [hidden] for configuration sasl.password: sasl.jaas.config and sasl.password may not both be set");
        let plain =
            "org.apache.kafka.common.security.plain.PlainLoginModule required username=\"u\" password=\"TOPSECRET\";";
        let e = refused("", &[("sasl.jaas.config", plain), ("sasl.mechanism", "SCRAM-SHA-256")]);
        assert!(e.contains("goes with sasl.mechanism=PLAIN") && !e.contains("TOPSECRET"), "{e}");
    }

    #[test]
    fn trust_store_mappings_and_refusals() {
        assert_eq!(
            ok(&[("ssl.truststore.location", "/ca.pem"), ("ssl.truststore.type", "PEM")]),
            props(&[("ssl.ca.location", "/ca.pem")])
        );
        let pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----";
        assert_eq!(ok(&[("ssl.truststore.certificates", pem)]), props(&[("ssl.ca.pem", pem)]));
        assert_eq!(ok(&[("ssl.ca.location", "/etc/ssl/certs")]), props(&[("ssl.ca.location", "/etc/ssl/certs")]));
        let e = refused("", &[("ssl.truststore.location", "/ts.jks")]);
        assert!(
            e.starts_with("Invalid value JKS for configuration ssl.truststore.type: the default trust store type JKS"),
            "{e}"
        );
        for ty in ["JKS", "PKCS12"] {
            let e = refused("producer.", &[("ssl.truststore.location", "/ts"), ("ssl.truststore.type", ty)]);
            assert!(e.starts_with(&format!("Invalid value {ty} for configuration producer.ssl.truststore.type: librdkafka reads PEM trust stores only: convert")), "{e}");
        }
        let e = refused(
            "",
            &[
                ("ssl.truststore.location", "/ca.pem"),
                ("ssl.truststore.type", "PEM"),
                ("ssl.truststore.password", "pw"),
            ],
        );
        assert_eq!(e, "Invalid value [hidden] for configuration ssl.truststore.password: a PEM trust store has no password (librdkafka reads PEM trust stores only)");
        assert!(refused(
            "",
            &[("ssl.truststore.location", "/a"), ("ssl.ca.location", "/b"), ("ssl.truststore.type", "PEM")]
        )
        .contains("may not both be set"));
        assert!(refused("", &[("ssl.truststore.type", "PEM")])
            .contains("set in the same config as ssl.truststore.location"));
    }

    #[test]
    fn key_store_mappings_and_refusals() {
        assert_eq!(
            ok(&[
                ("ssl.keystore.location", "/k.p12"),
                ("ssl.keystore.type", "PKCS12"),
                ("ssl.keystore.password", "pw"),
                ("ssl.key.password", "pw")
            ]),
            props(&[("ssl.keystore.location", "/k.p12"), ("ssl.keystore.password", "pw")])
        );
        assert_eq!(
            ok(&[("ssl.keystore.location", "/k.pem"), ("ssl.keystore.type", "PEM"), ("ssl.key.password", "kp")]),
            props(&[
                ("ssl.certificate.location", "/k.pem"),
                ("ssl.key.location", "/k.pem"),
                ("ssl.key.password", "kp")
            ])
        );
        assert_eq!(
            ok(&[
                ("ssl.keystore.certificate.chain", "CHAIN"),
                ("ssl.keystore.key", "KEY"),
                ("ssl.keystore.type", "PEM")
            ]),
            props(&[("ssl.certificate.pem", "CHAIN"), ("ssl.key.pem", "KEY")])
        );
        assert_eq!(
            ok(&[("ssl.certificate.location", "/c"), ("ssl.key.location", "/k"), ("ssl.key.password", "kp")]),
            props(&[("ssl.certificate.location", "/c"), ("ssl.key.location", "/k"), ("ssl.key.password", "kp")])
        );
        let e = refused(
            "",
            &[("ssl.keystore.location", "/k.jks"), ("ssl.keystore.type", "JKS"), ("ssl.keystore.password", "pw")],
        );
        assert!(e.starts_with("Invalid value JKS for configuration ssl.keystore.type: librdkafka cannot read JKS key stores: convert it to PKCS12"), "{e}");
        assert!(e.contains("or to PEM"));
        let e = refused("", &[("ssl.keystore.location", "/k.jks"), ("ssl.keystore.password", "pw")]);
        assert!(
            e.starts_with("Invalid value JKS for configuration ssl.keystore.type: the default key store type JKS"),
            "{e}"
        );
        let e = refused(
            "",
            &[
                ("ssl.keystore.location", "/k.p12"),
                ("ssl.keystore.type", "PKCS12"),
                ("ssl.keystore.password", "a"),
                ("ssl.key.password", "b"),
            ],
        );
        assert!(e.starts_with("Invalid value [hidden] for configuration ssl.key.password: librdkafka decrypts"), "{e}");
        let e = refused(
            "",
            &[("ssl.keystore.location", "/k.pem"), ("ssl.keystore.type", "PEM"), ("ssl.keystore.password", "a")],
        );
        assert!(
            e.starts_with(
                "Invalid value [hidden] for configuration ssl.keystore.password: a PEM key store has no store password"
            ),
            "{e}"
        );
        let e = refused("", &[("ssl.keystore.key", "KEY")]);
        assert_eq!(e, "Invalid value [hidden] for configuration ssl.keystore.key: set together with ssl.keystore.certificate.chain");
        assert!(refused(
            "",
            &[("ssl.keystore.location", "/k"), ("ssl.keystore.type", "PEM"), ("ssl.key.location", "/k")]
        )
        .contains("may not both be set"));
        assert!(refused("", &[("ssl.key.password", "x")]).contains("set in the same config as ssl.keystore.location"));
    }

    #[test]
    fn tls_versions_ciphers_and_managers() {
        assert_eq!(
            ok(&[
                ("ssl.enabled.protocols", "TLSv1.3, TLSv1.2"),
                ("ssl.protocol", "TLSv1.3"),
                ("ssl.keymanager.algorithm", "SunX509"),
                ("ssl.trustmanager.algorithm", "PKIX"),
            ]),
            Props::new(),
            "Java's defaults are what librdkafka does"
        );
        assert!(refused("", &[("ssl.enabled.protocols", "TLSv1.2")]).contains("only TLSv1.2,TLSv1.3 is accepted"));
        assert!(refused("", &[("ssl.enabled.protocols", "TLSv1.2,TLSv1.1,TLSv1")]).contains("only TLSv1.2,TLSv1.3"));
        assert!(refused("", &[("ssl.protocol", "TLSv1.2")]).contains("cannot cap"));
        assert_eq!(
            ok(&[("ssl.cipher.suites", "ECDHE-RSA-AES128-GCM-SHA256, ECDHE-RSA-AES256-GCM-SHA384")])
                ["ssl.cipher.suites"],
            "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384"
        );
        assert!(refused("", &[("ssl.cipher.suites", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256")])
            .contains("OpenSSL's cipher names"));
        assert!(refused("", &[("ssl.trustmanager.algorithm", "Custom")]).contains("only SunX509 or PKIX"));
        // Other security keys go to librdkafka as they are (it refuses the names it lacks).
        assert_eq!(ok(&[("ssl.crl.location", "/crl")]), props(&[("ssl.crl.location", "/crl")]));
        assert_eq!(ok(&[("linger.ms", "5")]), Props::new(), "not a security key");
    }

    #[test]
    fn groups_replace_lower_layers_and_single_keys_override() {
        let top = ok(&[
            ("security.protocol", "SASL_SSL"),
            ("sasl.mechanism", "PLAIN"),
            (
                "sasl.jaas.config",
                "org.apache.kafka.common.security.plain.PlainLoginModule required username=\"worker\" password=\"w\";",
            ),
            ("ssl.truststore.location", "/worker-ca.pem"),
            ("ssl.truststore.type", "PEM"),
        ]);
        let prefixed = translate(
            "producer.",
            &props(&[("ssl.truststore.certificates", "PEM"), ("sasl.mechanism", "SCRAM-SHA-256")]),
        )
        .unwrap();
        let connector = translate("producer.override.", &props(&[("sasl.username", "conn")])).unwrap();
        let mut merged = top.clone();
        merge(&mut merged, prefixed);
        merge(&mut merged, connector);
        assert_eq!(
            merged,
            props(&[
                ("security.protocol", "sasl_ssl"),
                ("sasl.mechanism", "SCRAM-SHA-256"),
                ("ssl.ca.pem", "PEM"),
                ("sasl.username", "conn"),
            ]),
            "the prefixed trust store replaces the top-level one; the connector's credentials replace the worker's"
        );
        check_merged(&merged).unwrap();
    }

    #[test]
    fn sasl_without_a_mechanism_is_gssapi_and_refused() {
        let merged = ok(&[("security.protocol", "SASL_SSL"), ("sasl.username", "u"), ("sasl.password", "p")]);
        let e = check_merged(&merged).unwrap_err().to_string();
        assert!(
            e.starts_with("Invalid value GSSAPI for configuration sasl.mechanism: the default mechanism GSSAPI"),
            "{e}"
        );
        check_merged(&ok(&[("security.protocol", "SSL")])).unwrap();
    }

    #[test]
    fn secrets_are_hidden() {
        for k in [
            "sasl.jaas.config",
            "producer.override.sasl.password",
            "ssl.key.password",
            "consumer.ssl.keystore.password",
            "ssl.truststore.password",
            "ssl.keystore.key",
            "ssl.key.pem",
            "sasl.oauthbearer.client.secret",
        ] {
            assert!(is_secret(k), "{k}");
            assert_eq!(ClientConfigError::invalid(k, "s", "r").shown_value(), HIDDEN);
        }
        assert!(!is_secret("ssl.truststore.location") && !is_secret("security.protocol"));
    }

    #[test]
    fn this_librdkafka_has_tls_plain_and_scram_and_no_gssapi() {
        let conf = rdkafka::config::ClientConfig::new().create_native_config().unwrap();
        let features = conf.get("builtin.features").unwrap();
        let features: BTreeSet<&str> = features.split(',').collect();
        for f in ["ssl", "sasl_plain", "sasl_scram"] {
            assert!(features.contains(f), "{f} missing from {features:?}");
        }
        assert!(!features.contains("sasl_gssapi"), "{features:?}: GSSAPI would be supported; revisit MECHANISMS");
    }
}
