#include "accord/web/ui_files.h"

#include "accord/web/session.h"

namespace accord::web {

void MountUiFiles(http::Router& router, const std::string& dir) {
  http::Router::StaticOptions options;
  options.headers = SecurityHeaders();
  options.fallback = "index.html";
  options.immutable_under = "assets/";
  router.ServeStatic("/ui/", dir, std::move(options));
  auto to_ui = [](http::RequestContext&, http::Response& res) {
    res.status = 302;
    res.SetHeader("Location", "/ui/");
    res.SetHeader("Content-Type", "text/plain");
    res.body = "the web UI is at /ui/\n";
  };
  router.Add("GET", "/", to_ui);
  router.Add("GET", "/ui", to_ui);
}

}  // namespace accord::web
