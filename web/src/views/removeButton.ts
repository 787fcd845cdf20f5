import { announce, h } from "../h";

/**
 * A table row's removing action (Unlink an installation, Delete a project): disabled while its request runs; once it
 * succeeds the page says so to screen readers and reloads; if it fails the button comes back and the error shows.
 */
export function removeButton(options: {
  /** The button's text ("Unlink"). */
  readonly label: string;
  /** Its accessible name, naming the row ("Unlink acme"). */
  readonly name: string;
  /** The request. */
  readonly remove: () => Promise<unknown>;
  /** Announced once it succeeded ("Unlinked acme"). */
  readonly done: string;
  readonly reload: () => unknown;
  readonly onError: (error: unknown) => void;
}): HTMLButtonElement {
  return h(
    "button",
    {
      type: "button",
      class: "danger",
      "aria-label": options.name,
      onclick: (event: MouseEvent) => {
        const button = event.currentTarget as HTMLButtonElement;
        button.disabled = true;
        options
          .remove()
          .then(() => {
            announce(options.done);
            return options.reload();
          })
          .catch((error: unknown) => {
            button.disabled = false;
            options.onError(error);
          });
      },
    },
    options.label,
  );
}
