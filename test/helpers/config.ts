import type { ConfigReader } from "../../components/stackConfig";

/** A `pulumi.Config` over plain values (lists and booleans as YAML gives them) and secrets set apart. */
export function fakeConfig(values: Record<string, unknown>, secrets: Record<string, string> = {}): ConfigReader {
  const get = (key: string) => (values[key] === undefined ? undefined : String(values[key]));
  return {
    name: "slipway",
    get: get as ConfigReader["get"],
    require: ((key: string) => {
      const value = get(key);
      if (value === undefined) throw new Error(`Missing required configuration variable 'slipway:${key}'`);
      return value;
    }) as ConfigReader["require"],
    getNumber: ((key: string) =>
      values[key] === undefined ? undefined : Number(values[key])) as ConfigReader["getNumber"],
    getBoolean: ((key: string) =>
      values[key] === undefined ? undefined : values[key] === true) as ConfigReader["getBoolean"],
    getObject: ((key: string) => values[key]) as ConfigReader["getObject"],
    getSecret: ((key: string) => secrets[key] as never) as ConfigReader["getSecret"],
  };
}
