// A timer leaked from a C++ class's method: the report prints the method's
// demangled name. With "close" it is closed (the negative control). The
// name is a std::string, which brings in libstdc++ and its demangler, as
// in any C++ program of some size.
#include <string>
#include <uv.h>

namespace sites {

class Poller {
public:
  explicit Poller(uv_loop_t *loop) : loop_(loop) {}
  void start(int delay);
  void stop();

private:
  uv_loop_t *loop_;
  uv_timer_t timer_;
};

void Poller::start(int delay) {
  uv_timer_init(loop_, &timer_); // @method
  (void)delay;
}

void Poller::stop() {
  uv_close(reinterpret_cast<uv_handle_t *>(&timer_), nullptr);
}

} // namespace sites

static sites::Poller poller(uv_default_loop());

int main(int argc, char **argv) {
  uv_loop_t *loop = uv_default_loop();

  poller.start(1000);
  if (argc > 1 && std::string(argv[1]) == "close")
    poller.stop();
  uv_run(loop, UV_RUN_DEFAULT);
  return 0;
}
