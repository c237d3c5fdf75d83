// The cheapest native scenario there is: it accepts `--method M` and exits 0. The
// runs-per-second benchmark launches it bare and under hangar to price the harness.
int main() { return 0; }
