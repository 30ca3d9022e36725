-- Argo CD health of accounts.lifecycle.dev/CustomerAccount.
-- Healthy: evaluated (Ready=True) and in phase Good or Warned.
-- Degraded: in FinalNotice or Terminated, or not evaluated (Ready=False:
--   NoPolicy, PolicyConflict, PolicyNotReady, EnforcementFailed).
-- Progressing: the operator has not yet evaluated the current generation.
local hs = {}

local function condition(status, type)
  if status == nil or status.conditions == nil then
    return nil
  end
  for _, c in ipairs(status.conditions) do
    if c.type == type then
      return c
    end
  end
  return nil
end

local status = obj.status
if status == nil or (status.phase == nil and status.conditions == nil) then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to evaluate the account"
  return hs
end
local generation = obj.metadata.generation
if generation ~= nil and (status.observedGeneration == nil or status.observedGeneration < generation) then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to evaluate generation " .. tostring(generation)
  return hs
end

local ready = condition(status, "Ready")
local phase = status.phase
if phase == "FinalNotice" or phase == "Terminated" then
  local detail = ready
  local pending = condition(status, "TerminationPending")
  if pending ~= nil and pending.status == "True" then
    detail = pending
  end
  hs.status = "Degraded"
  hs.message = "Account is in phase " .. phase
  if detail ~= nil and detail.message ~= nil and detail.message ~= "" then
    hs.message = hs.message .. ": " .. detail.message
  end
  return hs
end
if ready ~= nil and ready.status == "False" then
  hs.status = "Degraded"
  hs.message = (ready.reason or "NotReady") .. ": " .. (ready.message or "")
  return hs
end
if ready ~= nil and ready.status == "True" and (phase == "Good" or phase == "Warned") then
  hs.status = "Healthy"
  hs.message = "Account is in phase " .. phase .. " (score " .. tostring(status.score or 0) .. ")"
  return hs
end
hs.status = "Progressing"
hs.message = "Waiting for the operator to evaluate the account"
return hs
