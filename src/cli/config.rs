//! `--config FILE.toml` for `nabla train`: every flag has a key (the flag's
//! name without the dashes, `-` or `_` alike); the file's settings come
//! first on the command line, so flags given there override them.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use clap::CommandFactory;

use super::{Cli, Error};

/// The command line with `--config FILE` replaced by the file's settings,
/// and for `--resume DIR` the settings of the run being resumed (its
/// checkpoint's `config.toml`) put first: the file's settings override the
/// resumed run's, and flags override both.
pub fn expand(argv: Vec<OsString>) -> Result<Vec<OsString>, Error> {
    let argv = expand_config(argv)?;
    let Some((_, dir)) = flag_value(&argv, "--resume")? else {
        return Ok(argv);
    };
    let config = checkpoint_dir(Path::new(&dir)).join(CHECKPOINT_CONFIG);
    if !config.is_file() {
        return Err(Error::Usage(format!(
            "--resume {dir}: no checkpoint there (no {}); a run writes one with --checkpoint-every N",
            config.display()
        )));
    }
    let subcommand = subcommand_position(&argv, "--resume")?;
    let settings = settings(
        &config.to_string_lossy(),
        &argv[subcommand].to_string_lossy(),
    )?;
    let run = config
        .parent()
        .and_then(Path::parent)
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut expanded: Vec<OsString> = argv[..=subcommand].to_vec();
    // The resumed run writes into its own directory unless --out says otherwise.
    expanded.push(format!("--out={}", run.display()).into());
    expanded.extend(settings.into_iter().map(OsString::from));
    expanded.extend(argv[subcommand + 1..].iter().cloned());
    Ok(expanded)
}

/// The name of the settings file in a checkpoint directory.
pub const CHECKPOINT_CONFIG: &str = "config.toml";

/// The checkpoint directory `--resume PATH` means: PATH itself when it
/// holds a checkpoint, else the `checkpoint` directory of the run PATH.
pub fn checkpoint_dir(path: &Path) -> PathBuf {
    if path.join(CHECKPOINT_CONFIG).exists() {
        path.to_path_buf()
    } else {
        path.join("checkpoint")
    }
}

/// The position of `flag` and its value, as `--flag VALUE` or `--flag=VALUE`.
fn flag_value(argv: &[OsString], flag: &str) -> Result<Option<(usize, String)>, Error> {
    let with_equals = format!("{flag}=");
    let Some(at) = argv
        .iter()
        .position(|a| a == flag || a.to_string_lossy().starts_with(&with_equals))
    else {
        return Ok(None);
    };
    match argv[at].to_string_lossy().strip_prefix(&with_equals) {
        Some(value) => Ok(Some((at, value.to_string()))),
        None => match argv.get(at + 1) {
            Some(value) => Ok(Some((at, value.to_string_lossy().into_owned()))),
            None => Err(Error::Usage(format!("{flag} needs a value"))),
        },
    }
}

/// The position of the subcommand (the first argument not a flag).
fn subcommand_position(argv: &[OsString], flag: &str) -> Result<usize, Error> {
    argv.iter()
        .skip(1)
        .position(|a| !a.to_string_lossy().starts_with('-'))
        .map(|i| i + 1)
        .ok_or_else(|| {
            Error::Usage(format!(
                "{flag} belongs to a command, e.g. `nabla train {flag} …`"
            ))
        })
}

/// The command line with `--config FILE` replaced by the file's settings,
/// placed before the other arguments of the subcommand.
fn expand_config(argv: Vec<OsString>) -> Result<Vec<OsString>, Error> {
    let Some((at, path)) = flag_value(&argv, "--config")? else {
        return Ok(argv);
    };
    let remove = if argv[at] == "--config" { 2 } else { 1 };
    let subcommand = subcommand_position(&argv, "--config")?;
    let settings = settings(&path, &argv[subcommand].to_string_lossy())?;
    let mut expanded: Vec<OsString> = argv[..=subcommand].to_vec();
    expanded.extend(settings.into_iter().map(OsString::from));
    expanded.extend(argv[subcommand + 1..at].iter().cloned());
    expanded.extend(argv[at + remove..].iter().cloned());
    Ok(expanded)
}

/// The file's settings as command-line tokens.
fn settings(path: &str, subcommand: &str) -> Result<Vec<String>, Error> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::Usage(format!("cannot read {path}: {e}")))?;
    let table: toml::Table = text.parse().map_err(|e: toml::de::Error| {
        Error::Usage(format!(
            "{path}: {}{}",
            e.message().replace('\n', " "),
            quoting_hint(&text, &e)
        ))
    })?;
    let command = Cli::command();
    let flags: Vec<String> = command
        .find_subcommand(subcommand)
        .map(|c| {
            c.get_arguments()
                .filter_map(|a| a.get_long())
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    let mut tokens = Vec::new();
    for (key, value) in table {
        let flag = key.replace('_', "-");
        if flag == "config" || !flags.contains(&flag) {
            return Err(Error::Usage(format!(
                "{path}: unknown key {key:?} for `nabla {subcommand}`; the keys are the flag names: {}",
                flags
                    .iter()
                    .filter(|f| *f != "config" && *f != "help")
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        let text = match &value {
            toml::Value::Boolean(true) => {
                tokens.push(format!("--{flag}"));
                continue;
            }
            toml::Value::Boolean(false) => continue,
            toml::Value::String(s) => s.clone(),
            toml::Value::Integer(i) => i.to_string(),
            toml::Value::Float(f) => f.to_string(),
            toml::Value::Array(items) => items
                .iter()
                .map(|v| match v {
                    toml::Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .collect::<Vec<_>>()
                .join(","),
            other => {
                return Err(Error::Usage(format!(
                    "{path}: key {key:?} has a value of type {}; use a string, number, boolean or list",
                    other.type_str()
                )));
            }
        };
        tokens.push(format!("--{flag}={text}"));
    }
    Ok(tokens)
}

/// For a TOML error at a whole number above `i64::MAX` that a `u64` flag
/// (`--seed`) takes: how to write it so it is read, as `--print-config`
/// writes it; else nothing.
fn quoting_hint(text: &str, error: &toml::de::Error) -> String {
    let literal = error.span().and_then(|r| text.get(r)).unwrap_or_default();
    if literal.parse::<u64>().is_ok() && literal.parse::<i64>().is_err() {
        format!(
            " ({literal}); TOML integers stop at {}, so write it in quotes: \"{literal}\"",
            i64::MAX
        )
    } else {
        String::new()
    }
}

/// The effective settings of a parsed subcommand as TOML (flags left at
/// their defaults included), for `--print-config`.
pub fn to_toml(settings: &serde_json::Value) -> String {
    let mut table = toml::Table::new();
    if let serde_json::Value::Object(map) = settings {
        for (key, value) in map {
            if let Some(v) = toml_value(value) {
                table.insert(key.clone(), v);
            }
        }
    }
    toml::to_string(&table).expect("plain values serialize")
}

/// A setting as a TOML value. TOML integers are signed 64-bit, so a whole
/// number above `i64::MAX` (a `--seed` up to `u64::MAX`) is written as a
/// string of its digits, which [`settings`] passes to the flag unchanged.
fn toml_value(value: &serde_json::Value) -> Option<toml::Value> {
    Some(match value {
        serde_json::Value::Null => return None,
        serde_json::Value::Bool(b) => toml::Value::Boolean(*b),
        serde_json::Value::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => toml::Value::Integer(i),
            (None, Some(u)) => toml::Value::String(u.to_string()),
            (None, None) => toml::Value::Float(n.as_f64()?),
        },
        serde_json::Value::String(s) => toml::Value::String(s.clone()),
        serde_json::Value::Array(items) => {
            toml::Value::Array(items.iter().filter_map(toml_value).collect())
        }
        serde_json::Value::Object(_) => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_numbers_beyond_toml_integers_read_back_exactly() {
        let values = serde_json::json!({
            "seed": u64::MAX,
            "restarts": i64::MAX,
            "lr": 0.001,
            "l1": -2,
        });
        let text = to_toml(&values);
        assert!(text.contains("seed = \"18446744073709551615\"\n"), "{text}");
        assert!(text.contains("restarts = 9223372036854775807\n"), "{text}");
        let path = std::env::temp_dir().join(format!("nabla-config-{}.toml", std::process::id()));
        std::fs::write(&path, &text).expect("written");
        let tokens = settings(path.to_str().expect("UTF-8"), "train");
        std::fs::remove_file(&path).expect("cleanup");
        let tokens = tokens.expect("the printed settings read back");
        for expected in [
            "--seed=18446744073709551615",
            "--restarts=9223372036854775807",
            "--lr=0.001",
            "--l1=-2",
        ] {
            assert!(
                tokens.iter().any(|t| t == expected),
                "{expected}: {tokens:?}"
            );
        }
    }

    #[test]
    fn an_unquoted_seed_beyond_toml_integers_is_refused_with_the_quoted_form() {
        let text = "epochs = 3\nseed = 18446744073709551615\n";
        let error = text.parse::<toml::Table>().expect_err("too large for TOML");
        assert_eq!(
            quoting_hint(text, &error),
            " (18446744073709551615); TOML integers stop at 9223372036854775807, so write it in quotes: \"18446744073709551615\""
        );
        let text = "epochs = 3x\n";
        let error = text.parse::<toml::Table>().expect_err("not TOML");
        assert_eq!(quoting_hint(text, &error), "");
    }
}
