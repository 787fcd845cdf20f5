/** The methods a route key may name; ANY matches every method. */
const METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "ANY"] as const;

/** Segment kinds, most specific first: the rank decides between routes that both match a path. */
const SEGMENT_RANK = { literal: 0, parameter: 1, greedy: 2 } as const;

type Segment =
  | { readonly kind: "literal"; readonly text: string }
  | { readonly kind: "parameter" | "greedy"; readonly name: string };

interface CompiledRoute<R> {
  readonly route: R;
  readonly method: string;
  readonly segments: readonly Segment[];
}

export interface RouteMatch<R> {
  readonly route: R;
  /** Decoded values by name; empty when the route has none. */
  readonly pathParameters: Readonly<Record<string, string>>;
}

/**
 * API Gateway HTTP API route selection over `"METHOD /path"` keys: `{name}` takes one path segment, `{name+}` (last
 * segment only) the rest of the path. When several routes match, the most specific wins, segment by segment from
 * the left (a literal beats `{name}`, which beats `{name+}`), then a named method beats ANY.
 */
export function createRouteTable<R extends { readonly routeKey: string }>(
  routes: readonly R[],
): (method: string, rawPath: string) => RouteMatch<R> | undefined {
  const compiled = routes.map(compileRoute);
  const keys = new Set<string>();
  for (const { route } of compiled) {
    if (keys.has(route.routeKey)) throw new Error(`route ${route.routeKey} is defined twice`);
    keys.add(route.routeKey);
  }
  return (method, rawPath) => {
    const parts = rawPath.split("/").slice(1);
    let best: { compiled: CompiledRoute<R>; pathParameters: Record<string, string> } | undefined;
    for (const candidate of compiled) {
      if (candidate.method !== "ANY" && candidate.method !== method.toUpperCase()) continue;
      const pathParameters = matchSegments(candidate.segments, parts);
      if (pathParameters && (!best || moreSpecific(candidate, best.compiled)))
        best = { compiled: candidate, pathParameters };
    }
    return best && { route: best.compiled.route, pathParameters: best.pathParameters };
  };
}

function compileRoute<R extends { readonly routeKey: string }>(route: R): CompiledRoute<R> {
  const match = /^([A-Z]+) (\/\S*)$/.exec(route.routeKey);
  const method = match?.[1];
  if (!match || !method || !(METHODS as readonly string[]).includes(method)) {
    throw new Error(
      `route key ${JSON.stringify(route.routeKey)} must be "<METHOD> /path", METHOD one of ${METHODS.join(", ")}`,
    );
  }
  const texts = match[2]!.split("/").slice(1);
  const segments = texts.map((text, index): Segment => {
    const variable = /^\{([A-Za-z0-9_.-]+)(\+?)\}$/.exec(text);
    if (!variable) {
      if (/[{}]/.test(text)) throw new Error(`route ${route.routeKey}: segment ${text} must be a whole {name}`);
      return { kind: "literal", text };
    }
    if (variable[2] && index !== texts.length - 1) {
      throw new Error(`route ${route.routeKey}: a greedy {${variable[1]}+} must be the last segment`);
    }
    return { kind: variable[2] ? "greedy" : "parameter", name: variable[1]! };
  });
  return { route, method, segments };
}

function matchSegments(segments: readonly Segment[], parts: readonly string[]): Record<string, string> | undefined {
  const parameters: Record<string, string> = {};
  for (const [index, segment] of segments.entries()) {
    const part = parts[index];
    if (part === undefined) return undefined;
    if (segment.kind === "literal") {
      if (part !== segment.text) return undefined;
    } else if (segment.kind === "parameter") {
      if (part === "") return undefined;
      parameters[segment.name] = decode(part);
    } else {
      const rest = parts.slice(index);
      if (rest.every((p) => p === "")) return undefined;
      parameters[segment.name] = rest.map(decode).join("/");
      return parameters;
    }
  }
  return parts.length === segments.length ? parameters : undefined;
}

function moreSpecific<R>(a: CompiledRoute<R>, b: CompiledRoute<R>): boolean {
  const length = Math.max(a.segments.length, b.segments.length);
  for (let i = 0; i < length; i++) {
    const rankA = a.segments[i] ? SEGMENT_RANK[a.segments[i]!.kind] : -1;
    const rankB = b.segments[i] ? SEGMENT_RANK[b.segments[i]!.kind] : -1;
    if (rankA !== rankB) return rankA < rankB;
  }
  return a.method !== "ANY" && b.method === "ANY";
}

/** Path parameters arrive decoded; a malformed escape is passed on as sent rather than failing the request. */
function decode(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}
