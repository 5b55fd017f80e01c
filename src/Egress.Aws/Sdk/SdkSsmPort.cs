using Amazon.SimpleSystemsManagement;
using Amazon.SimpleSystemsManagement.Model;
using Egress.Aws.Ports;

namespace Egress.Aws.Sdk;

internal sealed class SdkSsmPort(IAmazonSimpleSystemsManagement client, string region) : ISsmPort, IDisposable
{
    public string Region { get; } = region;

    public Task<string?> GetParameterAsync(string name, CancellationToken cancellationToken) =>
        SdkAwsPorts.Call("GetParameter", Region, async () =>
        {
            try
            {
                var response = await client.GetParameterAsync(new GetParameterRequest { Name = name }, cancellationToken).ConfigureAwait(false);
                return response.Parameter?.Value;
            }
            catch (ParameterNotFoundException)
            {
                return null;
            }
        }, client.Config as Amazon.Runtime.ClientConfig);

    public Task<bool> PutParameterIfAbsentAsync(string name, string value, CancellationToken cancellationToken) =>
        SdkAwsPorts.Call("PutParameter", Region, async () =>
        {
            try
            {
                await client.PutParameterAsync(new PutParameterRequest { Name = name, Value = value, Type = ParameterType.String, Overwrite = false }, cancellationToken).ConfigureAwait(false);
                return true;
            }
            catch (ParameterAlreadyExistsException)
            {
                return false;
            }
        }, client.Config as Amazon.Runtime.ClientConfig);

    public Task DeleteParameterAsync(string name, CancellationToken cancellationToken) =>
        SdkAwsPorts.Call("DeleteParameter", Region, async () =>
        {
            try
            {
                await client.DeleteParameterAsync(new DeleteParameterRequest { Name = name }, cancellationToken).ConfigureAwait(false);
            }
            catch (ParameterNotFoundException)
            {
                // already gone
            }

            return true;
        }, client.Config as Amazon.Runtime.ClientConfig);

    public Task<string> SendShellScriptAsync(string instanceId, IReadOnlyList<string> commands, TimeSpan timeout, CancellationToken cancellationToken) =>
        SdkAwsPorts.Call("SendCommand", Region, async () =>
        {
            var seconds = ((int)Math.Ceiling(timeout.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
            var response = await client.SendCommandAsync(new SendCommandRequest
            {
                DocumentName = "AWS-RunShellScript",
                InstanceIds = [instanceId],
                Parameters = new Dictionary<string, List<string>>
                {
                    ["commands"] = [.. commands],
                    ["executionTimeout"] = [seconds],
                },
                Comment = "egress",
            }, cancellationToken).ConfigureAwait(false);
            return response.Command.CommandId;
        }, client.Config as Amazon.Runtime.ClientConfig);

    public Task<SsmInvocation?> GetInvocationAsync(string commandId, string instanceId, CancellationToken cancellationToken) =>
        SdkAwsPorts.Call("GetCommandInvocation", Region, async () =>
        {
            try
            {
                var r = await client.GetCommandInvocationAsync(new GetCommandInvocationRequest { CommandId = commandId, InstanceId = instanceId }, cancellationToken).ConfigureAwait(false);
                return (SsmInvocation?)new SsmInvocation(r.Status?.Value ?? "Pending", r.ResponseCode ?? -1, r.StandardOutputContent ?? string.Empty, r.StandardErrorContent ?? string.Empty);
            }
            catch (InvocationDoesNotExistException)
            {
                return null;
            }
        }, client.Config as Amazon.Runtime.ClientConfig);

    public void Dispose() => client.Dispose();
}
