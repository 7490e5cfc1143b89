import "./style.css";
import { browserApi } from "./api";
import { route } from "./router";
import { tokenForm } from "./views/token";

function start(): void {
  const api = browserApi();
  const main = document.getElementById("main")!;
  tokenForm(document.getElementById("token")!, () => show());
  let stop = () => {};
  const show = () => {
    stop();
    stop = route(api, main, window.location.hash);
  };
  window.addEventListener("hashchange", () => {
    show();
    // Keyboard and screen reader users start at the new view, not the old link.
    main.focus({ preventScroll: true });
  });
  show();
}

start();
