//! The `nabla` command-line tool; all of its work is done by the library.

fn main() -> std::process::ExitCode {
    nabla::cli::main()
}
