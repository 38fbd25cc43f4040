// The peer check: a server that does not speak QIX (an echo server, a web server, a silent one) ends the
// session with ErrorKind::protocol instead of leaving calls to time out. The first frame of each connection
// is judged (link_frames), and a connection that sends no QIX frame within SessionOptions::protocol_timeout
// of the first request (start_call, the resume's calls) is given up.
#include "session/session.hpp"

#include "rpc/frame.hpp"

namespace qix::core {

namespace {

// A short, printable excerpt of a frame for an error message.
std::string excerpt(std::string_view text, std::size_t max = 80) {
  std::string out;
  for (char c : text.substr(0, max)) {
    auto u = static_cast<unsigned char>(c);
    out += (u < 0x20 || u == 0x7f) ? '.' : c;
  }
  if (text.size() > max) out += "...";
  return out;
}

}  // namespace

bool Session::first_frame_is_qix_locked(bool decoded, const Frame& f, const std::string& err,
                                        const std::string& text, std::string& why) const {
  if (f.root.is_object()) {
    const json::value* version = f.jsonrpc_2_0 ? nullptr : find_member(f.root, "jsonrpc");
    if (!f.jsonrpc_2_0 && (!version || !version->is_string() || version->get_string() != "2.0")) {
      why = "its first frame is not JSON-RPC 2.0 (no \"jsonrpc\":\"2.0\"): " + excerpt(text);
      return false;
    }
    if (f.id && !f.method.empty()) {
      // A QIX engine never sends requests. The usual case: an echo server returning the client's own frame.
      auto it = pending_.find(*f.id);
      if (it != pending_.end() && it->second.method == f.method) {
        why = "it sent the request " + std::string(f.method) + " (id " + std::to_string(*f.id) +
              ") back instead of answering it (an echo server?)";
      } else {
        why = "it sent a request of its own (" + std::string(f.method) + ", id " + std::to_string(*f.id) +
              "), which a QIX engine never does";
      }
      return false;
    }
  }
  if (!decoded) {
    why = "its first frame is not JSON-RPC (" + err + "): " + excerpt(text);
    return false;
  }
  return true;
}

void Session::arm_protocol_timer_locked() {
  if (peer_verified_ || protocol_timer_ || options_.protocol_timeout.count() <= 0) return;
  bool resuming = state_ == SessionState::suspended && reconnect_.resuming;
  if (state_ != SessionState::connected && !resuming) return;
  std::uint64_t gen = link_gen_;
  protocol_timer_ = context_->schedule(options_.protocol_timeout, [weak = weak_from_this(), gen] {
    if (auto s = weak.lock()) s->on_protocol_timeout(gen);
  });
}

void Session::on_protocol_timeout(std::uint64_t gen) {
  Batch batch, inline_batch;
  {
    std::lock_guard lock(mutex_);
    protocol_timer_ = 0;
    if (gen != link_gen_ || peer_verified_ || state_ == SessionState::closed) return;
    auto ms = options_.protocol_timeout.count();
    std::string bound = ms % 1000 == 0 ? std::to_string(ms / 1000) + " s" : std::to_string(ms) + " ms";
    not_qix_locked("no OnConnected greeting and no answer within " + bound +
                       " of the first request (option timeout.protocol_ms)",
                   batch, inline_batch);
  }
  flush(batch, inline_batch);
}

void Session::not_qix_locked(const std::string& why, Batch& batch, Batch& inline_batch) {
  std::string peer = transport_ ? transport_->peer() : std::string();
  Error e =
      Error::make(ErrorKind::protocol, (peer.empty() ? std::string("the server") : "the server at " + peer) +
                                           " does not speak the QIX protocol: " + why);
  CloseInfo info = state_ == SessionState::suspended ? reconnect_.drop : CloseInfo{};
  info.code = close_code::protocol_error;
  info.by_client = true;
  info.error = e;
  finalize_locked(info, batch, inline_batch);
  // Not resumed: another connection to the same address would meet the same server.
  if (transport_) transport_->close(close_code::protocol_error, "the client expects the QIX protocol");
}

}  // namespace qix::core
