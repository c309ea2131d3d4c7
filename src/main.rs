//! The `keyturn` binary: parse the command line, dispatch.

fn main() -> std::process::ExitCode {
    keyturn::cli::main()
}
