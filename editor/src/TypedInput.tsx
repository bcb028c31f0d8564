// Node-RED's typed input: a type selector and a value.
const allTypes = ["msg", "flow", "global", "str", "num", "bool", "json", "bin", "re", "date", "jsonata", "env"];

export function TypedInput({ value, type, types, onChange }: { value: any; type: string; types?: string[]; onChange: (v: any, t: string) => void }) {
  const list = types && types.length ? types : allTypes;
  const t = type || list[0];
  return (
    <span className="typed-input">
      <select value={t} onChange={(e) => onChange(e.target.value === "date" ? "" : value, e.target.value)}>
        {(list.includes(t) ? list : [t, ...list]).map((x) => (
          <option key={x} value={x}>
            {x}
          </option>
        ))}
      </select>
      {t === "bool" ? (
        <select value={String(value)} onChange={(e) => onChange(e.target.value, t)}>
          <option value="true">true</option>
          <option value="false">false</option>
        </select>
      ) : t === "date" ? (
        <span className="muted">timestamp</span>
      ) : (
        <input value={value ?? ""} onChange={(e) => onChange(e.target.value, t)} placeholder={t === "msg" ? "payload" : ""} />
      )}
    </span>
  );
}
