-- Argo CD health of accounts.lifecycle.dev/AccountPolicy.
-- Healthy: Ready=True for the current generation. Degraded: Ready=False (the
-- spec is unusable). Progressing: not yet evaluated.
local hs = {}
local status = obj.status
local generation = obj.metadata.generation
if status == nil or (generation ~= nil and (status.observedGeneration == nil or status.observedGeneration < generation)) then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to evaluate the policy"
  return hs
end
local ready = nil
for _, c in ipairs(status.conditions or {}) do
  if c.type == "Ready" then
    ready = c
  end
end
if ready ~= nil and ready.status == "False" then
  hs.status = "Degraded"
  hs.message = (ready.reason or "NotReady") .. ": " .. (ready.message or "")
  return hs
end
if ready ~= nil and ready.status == "True" then
  hs.status = "Healthy"
  hs.message = "Governs " .. tostring(status.accounts or 0) .. " accounts"
  return hs
end
hs.status = "Progressing"
hs.message = "Waiting for the operator to evaluate the policy"
return hs
