//! `flowlens`: the command line (see `flowlens_devtools::cli`).

use clap::Parser;

#[tokio::main]
async fn main() {
    let cli = flowlens_devtools::cli::Cli::parse();
    if let Err(e) = flowlens_devtools::cli::run(cli, &mut std::io::stdout()).await {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}
