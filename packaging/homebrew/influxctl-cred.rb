# Homebrew formula for influxctl-cred, for a tap of your own (see docs/install.md). It builds
# from source, from the git repository named by HOMEBREW_INFLUXCTL_CRED_GIT_URL (Homebrew passes
# HOMEBREW_-prefixed variables through to formulae), so it names no download host of its own:
#
#   export HOMEBREW_INFLUXCTL_CRED_GIT_URL=https://git.example.org/you/influxctl-cred.git
#   brew install --HEAD you/tools/influxctl-cred
#
# Each release publishes this formula with the block below filled in (a stable url and sha256
# of the release's source archive, from its SHA256SUMS): `brew install you/tools/influxctl-cred`.
class InfluxctlCred < Formula
  desc "Keeps InfluxDB 3 management tokens encrypted and hands them to influxctl"
  # BEGIN source (packaging/update-homebrew.sh replaces this block with the release's
  # homepage, url and sha256; .github/workflows/release.yml runs it on every v* tag)
  homepage ENV.fetch("HOMEBREW_INFLUXCTL_CRED_GIT_URL") {
    raise "set HOMEBREW_INFLUXCTL_CRED_GIT_URL to the git URL of influxctl-cred (see docs/install.md)"
  }
  head ENV.fetch("HOMEBREW_INFLUXCTL_CRED_GIT_URL")
  # END source
  license any_of: ["MIT", "Apache-2.0"]

  depends_on "rust" => :build

  def install
    system "cargo", "install", *std_cargo_args
    # `influxctl-cred completions bash|zsh|fish` and `influxctl-cred man` print what clap
    # generates from the command-line definitions.
    generate_completions_from_executable(bin/"influxctl-cred", "completions",
                                         shells: [:bash, :zsh, :fish])
    (man1/"influxctl-cred.1").write Utils.safe_popen_read(bin/"influxctl-cred", "man")
  end

  test do
    assert_match "influxctl-cred", shell_output("#{bin}/influxctl-cred --version")
    assert_match ".TH influxctl-cred", shell_output("#{bin}/influxctl-cred man")

    # The file store round trip, headless: an age identity is generated under
    # INFLUXCTL_CRED_HOME on the first write, and the token comes back from the age file.
    ENV["CI"] = "true"
    ENV["INFLUXCTL_CRED_HOME"] = (testpath/"cred").to_s
    token = "M.V1.test-homebrew-0123456789"
    pipe_output("#{bin}/influxctl-cred --store file store -p brew", "#{token}\n", 0)
    assert_equal token, shell_output("#{bin}/influxctl-cred get -p brew").strip
    refute_includes (testpath/"cred/store/brew.age").binread, token

    # The read-only env store, for CI runners.
    ENV["INFLUXCTL_CRED_TOKEN_CI"] = token
    assert_equal token, shell_output("#{bin}/influxctl-cred get -p ci").strip
  end
end
