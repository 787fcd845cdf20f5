import { beginSignIn } from "../auth";
import type { DashboardConfig } from "../dashboardConfig";
import { h, render } from "../h";

export function signInPage(root: HTMLElement, config: DashboardConfig, returnTo: string, problem?: string): void {
  const error = h("p", { class: "form-error", role: "alert" }, problem ?? "");
  const button = h("button", { type: "button", class: "primary" }, "Sign in");
  button.addEventListener("click", () => {
    button.disabled = true;
    beginSignIn(config, returnTo).catch((e: unknown) => {
      button.disabled = false;
      render(error, `Could not reach the sign-in service: ${e instanceof Error ? e.message : String(e)}`);
    });
  });
  render(
    root,
    h(
      "section",
      { class: "sign-in" },
      h("h1", {}, "Sign in to Slipway"),
      h("p", {}, "Deploy your GitHub repositories and follow their builds."),
      button,
      error,
    ),
  );
}
