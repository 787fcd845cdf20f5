import { ApiError } from "../api";
import { h, render } from "../h";

/** A labelled input with its hint and its error, tied together by aria-describedby (read out with the field). */
export function formField(
  id: string,
  label: string,
  hint: string,
  attributes: Record<string, string | boolean | undefined> = {},
): { wrapper: HTMLElement; input: HTMLInputElement; error: HTMLElement } {
  const input = h("input", {
    id,
    name: id,
    autocomplete: "off",
    spellcheck: "false",
    "aria-describedby": `${id}-hint ${id}-error`,
    ...attributes,
  });
  const error = h("span", { class: "field-error", id: `${id}-error` });
  const wrapper = h(
    "div",
    { class: "field" },
    h("label", { for: id }, label),
    input,
    h("span", { class: "hint", id: `${id}-hint` }, hint),
    error,
  );
  return { wrapper, input, error };
}

/** Shows an error next to the field it names (by the API's field name), else in the form's own alert. */
export function showFieldError(
  fields: Readonly<Record<string, { input: HTMLInputElement; error: HTMLElement }>>,
  formError: HTMLElement,
  error: unknown,
  field = error instanceof ApiError ? error.field : undefined,
): void {
  const message = error instanceof Error ? error.message : String(error);
  const target = field ? fields[field] : undefined;
  if (target) {
    render(target.error, message);
    target.input.setAttribute("aria-invalid", "true");
    target.input.focus();
  } else {
    render(formError, message);
  }
}

export function clearFieldErrors(
  fields: Readonly<Record<string, { input: HTMLInputElement; error: HTMLElement }>>,
  formError: HTMLElement,
): void {
  render(formError);
  for (const { input, error } of Object.values(fields)) {
    render(error);
    input.removeAttribute("aria-invalid");
  }
}

export const messageOf = (e: unknown): string => (e instanceof Error ? e.message : String(e));
