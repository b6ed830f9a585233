//! The CI flow of docs/vault.md with no stored secret: a GitHub-Actions-like job whose OIDC
//! token (served by a stand-in of the runner's token service) logs in to OpenBao with a reader
//! role, and `exec --database-token read=…` gives influxctl a database token made through the
//! Management API (our loopback stand-in), never the management token.

use super::Machine;
use crate::apiserver::{ApiServer, Reply};
use crate::fake_influxctl::{report, sha256};
use crate::openbao::Bao;
use crate::openbao::jwt::{AUDIENCE, Signer, claims};
use crate::util::TOKEN;

const ACCESS: &str = "apiv1_test-vault-ci-dbtoken-000000000000000000000000000000000000000000";
const DB_ID: &str = "0d0d0d0d-1111-4111-8111-111111111111";
const REQUEST_TOKEN: &str = "runner-request-token-0123456789";
const SUBJECT: &str = "repo:example-org/app:ref:refs/heads/main";

#[test]
#[ignore = "needs OpenBao (bao)"]
fn ci_job_with_only_its_oidc_identity_runs_influxctl_with_a_read_only_database_token() {
    let bao = Bao::dev();
    bao.policy("reader", super::access::READER);
    let signer = Signer::new(&bao);
    bao.enable_jwt(&signer);
    bao.jwt_role("ci", SUBJECT, &["reader"]);
    let admin = Machine::new(&bao.addr, &bao.root);
    assert_eq!(admin.store("prod", TOKEN, &["--token-id", "tok-1"]).code, 0);

    // The runner's token service: the JWT for the asked audience, to the job's request token.
    let jwt = signer.sign(&claims(SUBJECT));
    let served = jwt.clone();
    let oidc = ApiServer::start(move |r| {
        let bearer = r
            .header("authorization")
            .is_some_and(|h| h.eq_ignore_ascii_case(&format!("bearer {REQUEST_TOKEN}")));
        if bearer && r.path.contains(&format!("audience={AUDIENCE}")) {
            Reply::json(200, &format!(r#"{{"count":1,"value":"{served}"}}"#))
        } else {
            Reply::json(403, r#"{"message":"bad request token or audience"}"#)
        }
    });
    let api = ApiServer::start(|r| match r.method.as_str() {
        "POST" => Reply::json(
            200,
            &format!(
                r#"{{"id":"{DB_ID}","description":"d","permissions":[],"createdAt":"2030-01-01T00:00:00Z","accessToken":"{ACCESS}"}}"#
            ),
        ),
        "DELETE" => Reply::empty(204),
        _ => Reply::json(404, r#"{"code":404,"message":"no such thing"}"#),
    });

    let vault = format!("auth = \"jwt\"\nrole = \"ci\"\naudience = \"{AUDIENCE}\"");
    let mut job = Machine::with(std::slice::from_ref(&bao.addr), None, "", &vault);
    job.secrets.extend([jwt.clone(), REQUEST_TOKEN.to_owned(), ACCESS.to_owned()]);
    let report_path = job.s.env.path().join("report.json");
    let request_url = format!("{}/_apis/token?api-version=2.0", oidc.url());
    let r = job.run_in(
        &[
            "exec",
            "-p",
            "prod",
            "--database-token",
            "read=sensors",
            "--",
            "influxctl",
            "query",
            "--database",
            "sensors",
            "SELECT 1",
        ],
        None,
        &[
            ("ACTIONS_ID_TOKEN_REQUEST_URL", &request_url),
            ("ACTIONS_ID_TOKEN_REQUEST_TOKEN", REQUEST_TOKEN),
            ("GITHUB_ACTIONS", "true"),
            ("INFLUXCTL_CRED_API_URL", &api.url()),
            ("FAKE_INFLUXCTL_REPORT", report_path.to_str().unwrap()),
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(oidc.requests().len(), 1, "one OIDC token fetched");

    // influxctl got the database token only; the management token went to the API alone.
    let rep = report(&report_path).expect("influxctl ran");
    assert_eq!(rep["token_sha256"], sha256(ACCESS), "the derived profile's token");
    assert!(rep["mgmt_token_sha256"].is_null(), "the management token reached influxctl");
    let reqs = api.requests();
    assert_eq!(reqs.iter().map(|r| r.method.as_str()).collect::<Vec<_>>(), ["POST", "DELETE"]);
    assert_eq!(reqs[0].header("authorization"), Some(format!("Bearer {TOKEN}").as_str()));
    let perms = reqs[0].json()["permissions"].to_string();
    assert!(perms.contains("sensors") && perms.contains("read"), "{perms}");
    assert!(!perms.contains("write"), "more than was asked: {perms}");

    // Nothing secret is left on the job's disk in plaintext: no management token, no database
    // token, no JWT, no login token (it is cached encrypted, if at all).
    for secret in [TOKEN, ACCESS, &jwt] {
        assert!(job.s.env.files_containing(secret).is_empty(), "a secret on disk");
    }
    for login in bao.issued_tokens("auth/jwt/login") {
        assert!(job.s.env.files_containing(&login).is_empty(), "a login token on disk");
        assert!(!r.stderr.contains(&login), "a login token on stderr");
    }
}
