namespace Fisher.Grains.Tests;
